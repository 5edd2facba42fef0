/**
 * `gpu-dag study …` through the real binary on examples/study: run (progress lines, the sorted
 * table, the best trial), table / best / status / list in text and JSON, submit-time errors
 * (exit 2, nothing recorded), and a study whose controller is cancelled with SIGTERM, then one
 * SIGKILLed and cancelled from its journal — each resumed to the same end.
 */
import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type CliResult, gd, gdBackground, json, ROOT, tempHome, until } from "./cli-helpers.js";

const EXAMPLE = join(ROOT, "examples", "study");

interface TableJson {
  studyId: string;
  status: string;
  trials: Array<{ trial: number; params: Record<string, number>; status: string; objective?: number; runId: string }>;
}

// Generous: every case runs the CLI many times, and CI runs the tiers side by side on 2 cores.
describe("gpu-dag study", { timeout: 400_000 }, () => {
  let home: string;
  let first: CliResult;
  let studyId: string;

  beforeAll(async () => {
    home = await tempHome();
    first = await gd(home, ["study", "run", join(EXAMPLE, "study.yaml")]);
    studyId = /^study (study-\S+):/m.exec(first.stdout)?.[1] ?? "";
  }, 120_000);

  it("run: a line per trial started and told, the sorted table, the best trial; exit 0", () => {
    expect(first.code, first.stderr).toBe(0);
    for (let t = 0; t < 6; t++) {
      expect(first.stdout).toMatch(new RegExp(`^trial ${t} started: x=\\d y=\\d \\(run ${studyId}-t00${t}\\)$`, "m"));
      expect(first.stdout).toMatch(new RegExp(`^trial ${t} succeeded: objective -?\\d+ \\(\\S+\\)$`, "m"));
    }
    // Interleaved order: six x values, both y values; the best of those is x=3 y=1 (9 − 5, ties to the earlier trial).
    expect(first.stdout).toMatch(/^TRIAL\s+x\s+y\s+STATUS\s+OBJECTIVE\s+DURATION\s+RUN\s+NOTE$/m);
    expect(first.stdout).toMatch(new RegExp(`^3\\s+3\\s+1\\s+succeeded\\s+4\\s+\\S+\\s+${studyId}-t003$`, "m"));
    expect(first.stdout).toContain(`best: trial 3, objective 4 (x=3 y=1); run ${studyId}-t003`);
  });

  it("table --json: every trial, best first; best: its run's metrics; status; list", async () => {
    const table = json<TableJson>(await gd(home, ["study", "table", studyId, "--json"]));
    expect(table.status).toBe("succeeded");
    expect(table.trials.map((t) => t.objective)).toEqual([4, 4, 2, -2, -4, -14]);
    expect(new Set(table.trials.map((t) => t.params["y"]))).toEqual(new Set([0, 1]));
    const best = await gd(home, ["study", "best", studyId]);
    expect(best.code).toBe(0);
    expect(best.stdout).toContain(`run: ${studyId}-t003`);
    expect(best.stdout).toContain("metrics of score: score=9");
    expect(best.stdout).toContain("metrics of baseline: score=5");
    const bestJson = json<{ best: { runId: string; metrics: Record<string, Record<string, number>> } }>(await gd(home, ["study", "best", studyId, "--json"]));
    expect(bestJson.best.metrics["score"]).toEqual({ score: 9 });
    // The run it names is an ordinary run: `gpu-dag status` reads it.
    const status = await gd(home, ["status", bestJson.best.runId]);
    expect(status.stdout).toContain(`run ${bestJson.best.runId}  study-demo/synthetic-sweep  succeeded`);
    const summary = await gd(home, ["study", "status", studyId]);
    expect(summary.stdout).toContain(`study ${studyId} "synthetic-grid": succeeded`);
    expect(summary.stdout).toContain("trials: 6 told (6 succeeded, 0 failed)");
    const list = await gd(home, ["study", "list"]);
    expect(list.stdout).toMatch(new RegExp(`^${studyId}\\s+synthetic-grid\\s+grid\\s+succeeded\\s+6\\s+4$`, "m"));
    // `baseline` is the same in every trial: it ran in one trial, the others reused it.
    const cached = await Promise.all(table.trials.map(async (t) => (await readFile(join(home, "runs", t.runId, "journal.jsonl"), "utf8")).includes('"step-cached"')));
    expect(cached.filter((c) => !c)).toHaveLength(1);
  });

  it("submit-time errors name the field and record nothing: a metric the step never reported, an unknown study", async () => {
    const dir = await tempHome("gpu-dag-cli-study-");
    await cp(join(EXAMPLE, "pipeline.yaml"), join(dir, "pipeline.yaml"));
    const text = (await readFile(join(EXAMPLE, "study.yaml"), "utf8")).replace('score.metrics["score"] - baseline', 'score.metrics["scor"] - baselin');
    await writeFile(join(dir, "study.yaml"), text);
    const before = await readdir(join(home, "studies"));
    const bad = await gd(home, ["study", "run", join(dir, "study.yaml")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('objective.expression: step "score" reported no metric "scor" in earlier runs of this pipeline');
    expect(bad.stderr).toContain('did you mean "score"?');
    expect(bad.stderr).toContain('the objective reads step "baselin", which the pipeline does not have (steps: baseline, score); did you mean "baseline"?');
    expect(await readdir(join(home, "studies"))).toEqual(before);
    const unknown = await gd(home, ["study", "table", "study-nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`study "study-nope" not found in ${home} (studies: ${studyId})`);
  });

  it("cancel: a live controller by SIGTERM, a dead one from the journal; resume finishes either", async () => {
    const dir = await tempHome("gpu-dag-cli-study-");
    await cp(join(EXAMPLE, "pipeline.yaml"), join(dir, "pipeline.yaml"));
    const example = await readFile(join(EXAMPLE, "study.yaml"), "utf8");
    // Each study its own sleep: the second must not find the first one's trials in the step cache
    // (it would finish before the SIGKILL reaches it).
    const start = async (sleep: number) => {
      const file = join(dir, `study-sleep${sleep}.yaml`);
      await writeFile(file, example.replace("fixed: { sleep: 0 }", `fixed: { sleep: ${sleep} }`));
      const child = gdBackground(home, ["study", "run", file]);
      // Listened for from the spawn on: the child may end between two polls below.
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      let stdout = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      const id = await until(async () => (/^trial 2 started/m.test(stdout) ? /^study (study-\S+):/m.exec(stdout)?.[1] : undefined), 60_000, "trial 2 to start");
      return { child, id, exited };
    };

    const live = await start(1);
    const cancelled = await gd(home, ["study", "cancel", live.id]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain(`study ${live.id} cancelled`);
    expect(await live.exited).toBe(1);
    const resumed = await gd(home, ["study", "resume", live.id]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^trial [0-2] resumed: /m);
    expect(json<TableJson>(await gd(home, ["study", "table", live.id, "--json"])).trials.map((t) => t.objective)).toEqual([4, 4, 2, -2, -4, -14]);

    const dead = await start(2);
    dead.child.kill("SIGKILL");
    await dead.exited;
    expect((await gd(home, ["study", "status", dead.id])).stdout).toContain(`study ${dead.id} "synthetic-grid": interrupted`);
    const offline = json<{ via: string; status: string }>(await gd(home, ["study", "cancel", dead.id, "--json"]));
    expect(offline).toMatchObject({ status: "cancelled", via: "journal" });
    const again = await gd(home, ["study", "resume", dead.id]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(json<TableJson>(await gd(home, ["study", "table", dead.id, "--json"])).trials.map((t) => t.objective)).toEqual([4, 4, 2, -2, -4, -14]);
  });
});

/**
 * Map steps through the controller on the real Slurm (over sshd): a 64-element map capped at 8
 * goes as one job array (`squeue` shows `JOBID_[…%8]`, one sbatch) with one status exec per poll
 * cycle throughout; and a map whose controller is SIGKILLed mid-map and resumed runs every
 * element once, loses none, and never submits an array twice.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createRun } from "../../src/api/create-run.js";
import { Pipeline } from "../../src/api/pipeline.js";
import { range } from "../../src/pipeline/map-spec.js";
import { replayJournal } from "../../src/runner/replay.js";
import { FileStore } from "../../src/store/file-store.js";
import { tempDir, tempStore } from "../unit/helpers.js";
import { allMarkers, entriesOf, markerTask, sleep, spawnTsx } from "../unit/runner/durable/durable-helpers.js";
import { cancelRun, pipelineClusterConfig, slurmTestEnv, testBackend } from "./slurm-test-env.js";

const FIXTURE = "test/fixtures/durable-controller.ts";
const env = slurmTestEnv();

function clusterConfig() {
  const config = pipelineClusterConfig(env);
  if (config.executor !== "slurm") throw new Error("expected a slurm config");
  return { ...config, queues: { ...config.queues, cpu: { partition: env.partitions.cpu, cpus: 1, nodes: 1, extraSbatch: [] } } };
}

describe("map steps on the real Slurm", () => {
  const markers = join(env.jobDir, `map-markers-${randomBytes(4).toString("hex")}`);
  const runs: string[] = [];
  afterAll(() => {
    for (const run of runs) cancelRun(run);
    rmSync(markers, { recursive: true, force: true });
  });
  const markerDir = (name: string) => {
    const dir = join(markers, name);
    mkdirSync(dir, { recursive: true });
    execFileSync("chown", ["-R", `${env.user}:${env.user}`, markers]);
    return dir;
  };

  it("a 64-element map capped at 8 is one job array; one status exec per poll cycle", { timeout: 300_000 }, async () => {
    const dir = markerDir("wide");
    const store = await tempStore();
    const task = markerTask(dir);
    await task.createTask({ store });
    const runId = `smap-${randomBytes(3).toString("hex")}`;
    runs.push(runId);
    const pipeline = new Pipeline({ projectName: "maps", pipelineName: "slurm-wide" }).addStep({
      name: "gen",
      baseTaskId: task.id!,
      executionQueue: "cpu",
      map: { axes: { i: range(64) }, maxParallel: 8 },
      parameterOverride: { step: "e${item.i}", secs: 0.2 },
    });
    const backend = testBackend(env, "ssh");
    const seen = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const out = execFileSync("squeue", ["-h", "-o", "%i %j"], { encoding: "utf8" });
        for (const line of out.split("\n")) if (line.includes(`gd-${runId}-`)) seen.add(line.split(" ")[0]!);
        await sleep(100);
      }
    })();
    try {
      const result = await pipeline.executeLocally({ store, home: store.home, cluster: clusterConfig(), runId, backend, retryBackoffMs: 10 });
      expect(result.status, JSON.stringify(result.steps["gen"])).toBe("succeeded");
      expect(result.steps["gen"]!.elements).toMatchObject({ total: 64, succeeded: 64 });
    } finally {
      watching = false;
      await watcher;
    }
    const stats = backend.stats();
    await backend.close();
    // Pending elements show as one array line: `123_[8-63%8]`.
    expect(
      [...seen].some((id) => /^\d+_\[\d+-63%8\]$/.test(id)),
      [...seen].join(" "),
    ).toBe(true);
    expect(stats.sbatch).toBe(1);
    expect(stats.squeue).toBe(stats.pollCycles);
    expect(stats.sacct).toBe(0);
    const marks = await allMarkers(dir);
    expect(marks.size).toBe(64);
    for (const [name, lines] of marks) expect(lines, name).toHaveLength(1);
  });

  it("SIGKILL of the controller mid-map, then resume: every element once, none lost, no array twice", { timeout: 300_000 }, async () => {
    const dir = markerDir("crash");
    const home = await tempDir("gpu-dag-slurm-map-crash-");
    const store = new FileStore({ home });
    const task = markerTask(dir);
    await task.createTask({ store });
    const pipeline = new Pipeline({ projectName: "maps", pipelineName: "slurm-crash" }).addStep({
      name: "gen",
      baseTaskId: task.id!,
      executionQueue: "cpu",
      map: { axes: { i: range(16) }, maxParallel: 4 },
      parameterOverride: { step: "e${item.i}", secs: 0.5 },
    });
    const { runId } = await createRun(pipeline, { store, cluster: clusterConfig(), runId: `smapk-${randomBytes(3).toString("hex")}` });
    runs.push(runId);
    for (const [i, started] of [2, 7, 12].entries()) {
      const child = spawnTsx([FIXTURE, home, runId, i === 0 ? "fresh" : "resume"]);
      let ended = false;
      void child.exited.then(() => (ended = true));
      while (!ended && (await allMarkers(dir)).size < started) await sleep(20);
      if (ended) throw new Error(`controller ${i + 1} ended before its kill: ${child.output()}`);
      child.kill("SIGKILL");
      await child.exited;
    }
    const last = spawnTsx([FIXTURE, home, runId, "resume"]);
    const exit = await last.exited;
    expect(exit.code, last.output()).toBe(0);
    const entries = await store.readJournal(runId);
    const replay = replayJournal(entries);
    expect(replay.steps.get("gen")?.status).toBe("succeeded");
    const marks = await allMarkers(dir);
    expect(marks.size).toBe(16);
    for (const [name, lines] of marks) expect(lines, name).toHaveLength(1);
    const finished = entriesOf(entries, "attempt-finished");
    for (let i = 0; i < 16; i++)
      expect(
        finished.filter((e) => e.step === `gen[${i}]` && e.status === "succeeded"),
        `gen[${i}]`,
      ).toHaveLength(1);
    // Slurm saw each array (by its deterministic name) once.
    const names = execFileSync("squeue", ["-h", "-t", "all", "-r", "-o", "%j"], { encoding: "utf8" })
      .split("\n")
      .filter((n) => n.startsWith(`gd-${runId}-`));
    const ids = execFileSync("squeue", ["-h", "-t", "all", "-o", "%F %j"], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.includes(`gd-${runId}-`));
    const arrayIdsByName = new Map<string, Set<string>>();
    for (const line of ids) {
      const [id, name] = line.split(" ");
      arrayIdsByName.set(name!, (arrayIdsByName.get(name!) ?? new Set()).add(id!));
    }
    for (const [name, set] of arrayIdsByName) expect(set.size, `${name}: ${[...set].join(",")}`).toBe(1);
    expect(names.length).toBeGreaterThan(0);
    await store.close();
  });
});

/**
 * Grid studies on the local backend, every trial a real child run: a 6 × 2 grid finds the known
 * maximum of the synthetic objective; a budget of 5 in the interleaved order still covers both
 * values of the second axis; a trial that fails and one that reports no objective are recorded
 * with their reasons while the study goes on; the shared `base` step runs once for the study.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readRun } from "../../../src/api/run-status.js";
import { FileStore } from "../../../src/store/file-store.js";
import { Study } from "../../../src/study/study.js";
import { readStudyJournal } from "../../../src/study/study-files.js";
import { localCluster, tempDir } from "../helpers.js";
import { allMarkers } from "../runner/durable/durable-helpers.js";
import { synthetic, trialPipeline, trialTask } from "./study-helpers.js";

async function setup() {
  const home = await tempDir("gpu-dag-study-");
  const markers = join(home, "markers");
  await mkdir(markers);
  const store = new FileStore({ home });
  const taskId = await trialTask(store, home, markers);
  return { home, markers, store, taskId };
}

const X = [0, 1, 2, 3, 4, 5];
const Y = [0, 1];

describe("grid studies", () => {
  it("a 6 × 2 grid finds the known maximum; the shared step ran once", { timeout: 60_000 }, async () => {
    const { home, markers, store, taskId } = await setup();
    const study = new Study({
      pipeline: trialPipeline(taskId),
      parameters: { x: X, y: { values: Y } },
      objective: { expression: 'score.metrics["score"]', goal: "maximize" },
      concurrency: 3,
      store,
      home,
      cluster: localCluster({ maxParallel: 3 }),
      runtime: "simulate",
    });
    const result = await study.run({ retryBackoffMs: 10 });
    expect(result.status).toBe("succeeded");
    expect(result.trials).toHaveLength(12);
    expect(result.trials.every((t) => t.status === "succeeded")).toBe(true);
    // Every grid point once, each with its synthetic objective.
    expect(new Set(result.trials.map((t) => `${t.params["x"]},${t.params["y"]}`)).size).toBe(12);
    for (const t of result.trials) expect(t.objective).toBeCloseTo(synthetic(Number(t.params["x"]), Number(t.params["y"])), 5);
    expect(result.best?.params).toEqual({ x: 4, y: 1 });
    expect(result.best?.objective).toBeCloseTo(10, 5);
    expect(result.table[0]!.trial).toBe(result.best!.trial);
    // The table is sorted best first.
    const objectives = result.table.map((t) => t.objective!);
    expect([...objectives].sort((a, b) => b - a)).toEqual(objectives);
    // The best trial names its run: a recorded run of the pipeline with the searched parameters.
    const run = await readRun(store, result.best!.runId);
    expect(run.record.options.parameters).toMatchObject({ x: 4, y: 1 });
    // `base` is the same in every trial: its job ran once for the whole study, the others reused it.
    const files = await allMarkers(markers);
    const baseRuns = [...files.keys()].filter((k) => k.endsWith(".base"));
    expect(baseRuns, JSON.stringify([...files.keys()])).toHaveLength(1);
    for (const [file, lines] of files) expect(lines, file).toHaveLength(1);
    expect([...files.keys()].filter((k) => k.endsWith(".score"))).toHaveLength(12);
    await store.close();
  });

  it("a budget of 5 in interleaved order covers both values of the second axis", { timeout: 60_000 }, async () => {
    const { home, store, taskId } = await setup();
    const result = await new Study({
      pipeline: trialPipeline(taskId),
      parameters: { x: X, y: Y },
      objective: 'score.metrics["score"]',
      trials: 5,
      concurrency: 2,
      store,
      home,
      cluster: localCluster({ maxParallel: 2 }),
    }).run({ retryBackoffMs: 10 });
    expect(result.trials).toHaveLength(5);
    expect(new Set(result.trials.map((t) => t.params["y"]))).toEqual(new Set(Y));
    // And five distinct values of the first axis (row-major order would give x = 0, 0, 1, 1, 2).
    expect(new Set(result.trials.map((t) => t.params["x"])).size).toBe(5);
    await store.close();
  });

  it("a failing trial and one without the objective are recorded; the study goes on", { timeout: 60_000 }, async () => {
    const { home, store, taskId } = await setup();
    const result = await new Study({
      pipeline: trialPipeline(taskId),
      parameters: { x: [1, 2, 3, 4] },
      fixed: { y: 1, fail_at: 2, nometric_at: 3 },
      objective: 'score.metrics["score"]',
      concurrency: 2,
      store,
      home,
      cluster: localCluster({ maxParallel: 2 }),
    }).run({ retryBackoffMs: 10 });
    expect(result.status).toBe("succeeded");
    const byX = new Map(result.trials.map((t) => [t.params["x"], t]));
    expect(byX.get(2)?.status).toBe("failed");
    expect(byX.get(2)?.reason).toMatch(/step "score" failed: exited with code 3 .*synthetic failure at x=2/);
    expect(byX.get(3)?.status).toBe("failed");
    expect(byX.get(3)?.reason).toContain('step "score" reported no metric "score" (it reported: other)');
    expect(byX.get(1)?.status).toBe("succeeded");
    expect(byX.get(4)?.status).toBe("succeeded");
    expect(result.best?.params).toEqual({ x: 4 });
    // Failed trials sort after measured ones.
    expect(result.table.map((t) => t.params["x"])).toEqual([4, 1, 2, 3]);
    await store.close();
  });

  it("onTrialFailure: worst imputes the worst measured value (never the best); retry runs a failed trial again", { timeout: 60_000 }, async () => {
    const { home, store, taskId } = await setup();
    const common = {
      pipeline: trialPipeline(taskId),
      parameters: { x: [1, 2, 3, 4] },
      fixed: { y: 1, fail_at: 2, nometric_at: 3 },
      objective: 'score.metrics["score"]',
      store,
      home,
      cluster: localCluster(),
    };
    const worst = await new Study({ ...common, onTrialFailure: "worst" }).run({ retryBackoffMs: 10 });
    const byX = new Map(worst.trials.map((t) => [t.params["x"], t]));
    // One at a time: x=1 measured 1 first, so the two failures after it get 1, marked imputed.
    expect([2, 3].map((x) => [byX.get(x)?.status, byX.get(x)?.objective, byX.get(x)?.imputed])).toEqual([
      ["failed", 1, true],
      ["failed", 1, true],
    ]);
    expect(worst.best?.params).toEqual({ x: 4 });
    expect(worst.table.map((t) => t.params["x"])).toEqual([4, 1, 2, 3]);

    const retry = await new Study({ ...common, onTrialFailure: "retry", retries: 1 }).run({ retryBackoffMs: 10 });
    const failed = retry.trials.filter((t) => t.status === "failed");
    expect(failed.map((t) => [t.params["x"], t.attempt, t.runId.endsWith("-r2")])).toEqual([
      [2, 2, true],
      [3, 2, true],
    ]);
    const journal = await readStudyJournal(home, retry.studyId);
    expect(journal.filter((e) => e.type === "trial-asked").map((e) => (e.type === "trial-asked" ? `${e.trial}.${e.attempt}` : ""))).toEqual(["0.1", "1.1", "1.2", "2.1", "2.2", "3.1"]);
    expect(journal.filter((e) => e.type === "trial-told")).toHaveLength(4);
    await store.close();
  });
});

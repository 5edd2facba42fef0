/**
 * Successive halving on the local backend: 9 configurations on rung 0, η = 3 — exactly 3 reach
 * rung 1 and 1 reaches rung 2, each promoted trial the best of the rung below, each rung at its
 * own budget (the `limit` parameter); a promoted trial reuses its cached `prep` step (it does not
 * depend on the budget) from the rung below instead of running it again.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileStore } from "../../../src/store/file-store.js";
import { Study } from "../../../src/study/study.js";
import { localCluster, tempDir } from "../helpers.js";
import { allMarkers, entriesOf } from "../runner/durable/durable-helpers.js";
import { synthetic, trialPipeline, trialTask } from "./study-helpers.js";

describe("halving studies", () => {
  it("9 trials, η = 3: 3 reach the second rung, 1 the third; cached steps reused across rungs", { timeout: 90_000 }, async () => {
    const home = await tempDir("gpu-dag-study-");
    const markers = join(home, "markers");
    await mkdir(markers);
    const store = new FileStore({ home });
    const taskId = await trialTask(store, home, markers);
    const result = await new Study({
      pipeline: trialPipeline(taskId, { prep: true }),
      method: "halving",
      parameters: { x: [0, 1, 2, 3, 4, 5], y: [0, 1] },
      halving: { parameter: "limit", rungs: [10, 30, 100], eta: 3 },
      trials: 9,
      objective: 'score.metrics["score"]',
      concurrency: 3,
      store,
      home,
      cluster: localCluster({ maxParallel: 3 }),
    }).run({ retryBackoffMs: 10 });
    expect(result.status).toBe("succeeded");
    const rung = (r: number) => result.trials.filter((t) => t.rung === r);
    expect(rung(0)).toHaveLength(9);
    expect(rung(1)).toHaveLength(3);
    expect(rung(2)).toHaveLength(1);
    expect(result.trials).toHaveLength(13);
    // Each rung ran at its budget.
    for (const [r, budget] of [
      [0, 10],
      [1, 30],
      [2, 100],
    ] as const) {
      for (const t of rung(r)) {
        expect(t.budget).toBe(budget);
        expect(t.objective).toBeCloseTo(synthetic(Number(t.params["x"]), Number(t.params["y"]), budget), 5);
      }
    }
    // Promoted: the best third of the rung below (ties to the earlier trial).
    const best = (trials: typeof result.trials, k: number) =>
      [...trials]
        .sort((a, b) => b.objective! - a.objective! || a.trial - b.trial)
        .slice(0, k)
        .map((t) => t.trial);
    expect(rung(1).map((t) => t.promotedFrom)).toEqual(best(rung(0), 3));
    expect(rung(2).map((t) => t.promotedFrom)).toEqual(best(rung(1), 1));
    for (const t of [...rung(1), ...rung(2)]) expect(t.params).toEqual(result.trials[t.promotedFrom!]!.params);
    // The best trial is the last rung's.
    expect(result.best?.trial).toBe(rung(2)[0]!.trial);

    // `prep` depends on x and y only: a promoted trial's is the cache entry of its configuration's
    // first run; its job ran once per configuration (9 times), `base` once for the whole study.
    for (const t of [...rung(1), ...rung(2)]) {
      const journal = await store.readJournal(t.runId);
      const cached = entriesOf(journal, "step-cached").find((e) => e.step === "prep");
      let origin = t;
      while (origin.promotedFrom !== undefined) origin = result.trials[origin.promotedFrom]!;
      expect(cached?.fromRunId, `trial ${t.trial}`).toBe(origin.runId);
      expect(entriesOf(journal, "attempt-planned").map((e) => e.step)).toEqual(["score"]);
    }
    const files = await allMarkers(markers);
    expect([...files.keys()].filter((k) => k.endsWith(".prep"))).toHaveLength(9);
    expect([...files.keys()].filter((k) => k.endsWith(".base"))).toHaveLength(1);
    expect([...files.keys()].filter((k) => k.endsWith(".score"))).toHaveLength(13);
    await store.close();
  });
});

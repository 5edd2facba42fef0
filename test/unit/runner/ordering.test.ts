/**
 * The runner starts a step only after all its parents ended, and as soon as they have (no
 * level-by-level waiting), checked from timestamps the jobs themselves recorded; events come in
 * order.
 */
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import type { RunEvent } from "../../../src/runner/run-types.js";
import { mulberry32, readRecord, recordingTask, runLocally, tempStore } from "../helpers.js";

describe("runner ordering on the local backend", () => {
  it("a seeded random 20-step DAG: every step starts only after all its parents ended", async () => {
    const store = await tempStore();
    const task = recordingTask("rec");
    await task.createTask({ store });
    const rand = mulberry32(20_261_121);
    const parents = new Map<string, string[]>();
    const p = new Pipeline({ projectName: "unit", pipelineName: "dag20" });
    for (let i = 0; i < 20; i++) {
      const name = `s${String(i).padStart(2, "0")}`;
      const earlier = [...parents.keys()];
      const chosen = earlier.filter(() => rand() < 0.2).slice(-3);
      parents.set(name, chosen);
      p.addStep({ name, baseTaskId: task.id!, parents: chosen, executionQueue: "cpu", parameterOverride: { sleep: Math.floor(rand() * 80) } });
    }
    // The DAG has real structure: roots, joins and depth.
    expect([...parents.values()].filter((ps) => ps.length === 0).length).toBeGreaterThan(1);
    expect([...parents.values()].some((ps) => ps.length >= 2)).toBe(true);

    const result = await runLocally(p, store);
    expect(result.status).toBe("succeeded");
    const records = new Map(await Promise.all([...parents.keys()].map(async (n) => [n, await readRecord(result.steps[n]!.attemptDir)] as const)));
    let edges = 0;
    for (const [name, ps] of parents) {
      const child = records.get(name)!;
      expect(child.end).toBeGreaterThan(child.start);
      for (const parent of ps) {
        edges += 1;
        const ended = records.get(parent)!.end;
        expect(child.start > ended, `${name} started before its parent ${parent} ended`).toBe(true);
      }
    }
    expect(edges).toBeGreaterThan(10);
    // Independent steps did run side by side.
    const intervals = [...records.values()];
    const overlapping = intervals.some((a, i) => intervals.some((b, j) => i !== j && a.start < b.end && b.start < a.end));
    expect(overlapping).toBe(true);
  });

  it("a step starts when its own parents are done, not when the whole level is", async () => {
    const store = await tempStore();
    const task = recordingTask("rec");
    await task.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "eager" })
      .addStep({ name: "fast", baseTaskId: task.id!, executionQueue: "cpu", parameterOverride: { sleep: 0 } })
      .addStep({ name: "slow", baseTaskId: task.id!, executionQueue: "cpu", parameterOverride: { sleep: 1500 } })
      .addStep({ name: "after_fast", baseTaskId: task.id!, parents: ["fast"], executionQueue: "cpu", parameterOverride: { sleep: 0 } })
      .addStep({ name: "after_both", baseTaskId: task.id!, parents: ["fast", "slow"], executionQueue: "cpu", parameterOverride: { sleep: 0 } });
    const result = await runLocally(p, store);
    expect(result.status).toBe("succeeded");
    const [fast, slow, afterFast, afterBoth] = await Promise.all(["fast", "slow", "after_fast", "after_both"].map((n) => readRecord(result.steps[n]!.attemptDir)));
    expect(afterFast!.start > fast!.end).toBe(true);
    expect(afterFast!.end < slow!.end, "after_fast waited for the unrelated slow step").toBe(true);
    expect(afterBoth!.start > slow!.end).toBe(true);
  });

  it("emits step:queued → step:start → step:success per step, and run:complete last", async () => {
    const store = await tempStore();
    const task = recordingTask("rec");
    await task.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "events" })
      .addStep({ name: "a", baseTaskId: task.id!, executionQueue: "cpu" })
      .addStep({ name: "b", baseTaskId: task.id!, parents: ["a"], executionQueue: "cpu" })
      .addStep({ name: "c", baseTaskId: task.id!, parents: ["a"], executionQueue: "cpu" })
      .addStep({ name: "d", baseTaskId: task.id!, parents: ["b", "c"], executionQueue: "cpu" });
    const events: RunEvent[] = [];
    const result = await runLocally(p, store, { onEvent: (e) => events.push(e) });
    expect(result.status).toBe("succeeded");
    for (const step of ["a", "b", "c", "d"]) {
      const mine = events.filter((e) => "step" in e && e.step === step).map((e) => e.type);
      expect(mine, step).toEqual(["step:queued", "step:start", "step:success"]);
    }
    const index = (type: string, step: string) => events.findIndex((e) => e.type === type && "step" in e && e.step === step);
    expect(index("step:queued", "b")).toBeGreaterThan(index("step:success", "a"));
    expect(index("step:queued", "d")).toBeGreaterThan(Math.max(index("step:success", "b"), index("step:success", "c")));
    expect(events.filter((e) => e.type === "run:complete")).toHaveLength(1);
    const last = events.at(-1)!;
    expect(last.type).toBe("run:complete");
    expect(last.type === "run:complete" && last.result).toEqual(result);
    expect(new Set(events.map((e) => e.runId))).toEqual(new Set([result.runId]));
    for (let i = 1; i < events.length; i++) expect(events[i]!.at).toBeGreaterThanOrEqual(events[i - 1]!.at);
  });
});

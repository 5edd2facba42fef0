/**
 * The runner starts a step only after all its parents ended, and as soon as they have (no
 * level-by-level waiting), checked from timestamps the jobs themselves recorded; events come in
 * order.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import type { RunEvent } from "../../../src/runner/run-types.js";
import { mulberry32, readRecord, recordingTask, runLocally, shTask, tempDir, tempStore } from "../helpers.js";

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
    // Independent steps did run side by side (as the controller saw them: from spawn to exit).
    const spans = Object.values(result.steps).map((r) => [r.startedAt!, r.endedAt!] as const);
    expect(spans.some((a, i) => spans.some((b, j) => i !== j && a[0] < b[1] && b[0] < a[1]))).toBe(true);
  });

  it("a step starts when its own parents are done, not when the whole level is", async () => {
    const store = await tempStore();
    const signal = join(await tempDir(), "after_fast-ran");
    // "slow" only ends once "after_fast" (a child of its sibling) has run: a runner that waited
    // for the whole first level would leave it waiting until it gives up (exit 9, run failed).
    const slow = shTask("slow", 'i=0; while [ ! -e "$1" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; [ -e "$1" ] || exit 9', { signal });
    const touch = shTask("touch", 'touch "$1"', { signal });
    const task = recordingTask("rec");
    for (const t of [slow, touch, task]) await t.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "eager" })
      .addStep({ name: "fast", baseTaskId: task.id!, executionQueue: "cpu" })
      .addStep({ name: "slow", baseTaskId: slow.id!, executionQueue: "cpu" })
      .addStep({ name: "after_fast", baseTaskId: touch.id!, parents: ["fast"], executionQueue: "cpu" })
      .addStep({ name: "after_both", baseTaskId: task.id!, parents: ["fast", "slow"], executionQueue: "cpu" });
    const result = await runLocally(p, store);
    expect(result.steps["slow"], "slow waited in vain for after_fast").toMatchObject({ status: "succeeded" });
    expect(result.status).toBe("succeeded");
    expect(result.steps["after_fast"]!.endedAt!).toBeLessThanOrEqual(result.steps["slow"]!.endedAt!);
    expect(result.steps["after_both"]!.startedAt!).toBeGreaterThanOrEqual(result.steps["slow"]!.endedAt!);
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

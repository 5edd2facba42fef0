/**
 * Priorities from earlier runs' run times (src/runner/run-times.ts, schedule-choice.ts): the
 * same step keeps its key across runs; a run records its steps' times; with them the longest
 * remaining work puts a long step before a chain of short ones that a count of steps puts first;
 * without history the planner's priorities stand. The choice between rules by simulated makespan.
 */
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import { applyRunTimePriorities, runTimeKey } from "../../../src/runner/run-times.js";
import { CANDIDATES, candidatePriorities, chooseSchedule, type ScheduleStep, simulateMakespan } from "../../../src/runner/schedule-choice.js";
import { localCluster, runLocally, shTask, tempStore } from "../helpers.js";

async function setUp() {
  const store = await tempStore();
  const task = shTask("sleeper", 'sleep "$1"', { secs: 0 });
  await task.createTask({ store });
  // One GPU: the steps run one at a time, in priority order. `long` is one step of 0.8 s; the
  // chain a1 → a2 → a3 is three steps of 0.05 s: counted in steps a1 (3) goes before long (1).
  const pipeline = new Pipeline({ projectName: "unit", pipelineName: "run-times" })
    .addStep({ name: "long", baseTaskId: task.id!, executionQueue: "x1", parameterOverride: { secs: 0.8 } })
    .addStep({ name: "a1", baseTaskId: task.id!, executionQueue: "x1", parameterOverride: { secs: 0.05 } })
    .addStep({ name: "a2", baseTaskId: task.id!, parents: ["a1"], executionQueue: "x1", parameterOverride: { secs: 0.05 } })
    .addStep({ name: "a3", baseTaskId: task.id!, parents: ["a2"], executionQueue: "x1", parameterOverride: { secs: 0.05 } });
  const cluster = localCluster({ gpus: 1, queues: { x1: { gpus: 1 } } });
  const plan = () => pipeline.plan({ loadTask: async () => task, checkQueue: () => undefined });
  return { store, pipeline, cluster, plan };
}

async function startOrder(store: Awaited<ReturnType<typeof tempStore>>, runId: string): Promise<string[]> {
  return (await store.readJournal(runId)).flatMap((e) => (e.type === "job-started" ? [e.step] : []));
}

describe("priorities from recorded run times", { timeout: 60_000 }, () => {
  it("keys: the same task and parameters give the same key; another parameter value another", async () => {
    const { plan } = await setUp();
    const first = await plan();
    const second = await plan();
    expect(runTimeKey(first.steps.get("a2")!)).toBe(runTimeKey(second.steps.get("a2")!));
    expect(runTimeKey(first.steps.get("a2")!)).toBe(runTimeKey(first.steps.get("a3")!)); // same task, same parameters
    expect(runTimeKey(first.steps.get("long")!)).not.toBe(runTimeKey(first.steps.get("a1")!));
  });

  it("without history the planner's step counts stand; after a run its times make the long step go first", async () => {
    const { store, pipeline, cluster, plan } = await setUp();
    const fresh = await plan();
    expect((await applyRunTimePriorities(fresh, store)).known).toBe(0);
    expect(fresh.steps.get("a1")!.priority).toBeGreaterThan(fresh.steps.get("long")!.priority);

    const firstRun = await runLocally(pipeline, store, { cluster, runId: "times-1" });
    expect(firstRun.status).toBe("succeeded");
    // Counted in steps, the chain's head started before the long step.
    const firstOrder = await startOrder(store, "times-1");
    expect(firstOrder.indexOf("a1")).toBeLessThan(firstOrder.indexOf("long"));

    // Every step's time was recorded under its key.
    const planned = await plan();
    const times = await store.getRunTimes([...planned.steps.values()].map(runTimeKey));
    expect(times.get(runTimeKey(planned.steps.get("long")!))![0]).toBeGreaterThanOrEqual(800);
    expect(times.get(runTimeKey(planned.steps.get("a1")!))![0]).toBeLessThan(800);

    expect(await applyRunTimePriorities(planned, store)).toEqual({ known: 4, rule: "work" });
    const long = planned.steps.get("long")!.priority;
    const a1 = planned.steps.get("a1")!.priority;
    expect(long).toBeGreaterThan(a1); // 0.8 s of work left vs ~0.15 s
    expect(a1).toBeGreaterThan(planned.steps.get("a2")!.priority);

    // On one GPU every order takes as long: the choice by simulation keeps the planner's order.
    expect(await applyRunTimePriorities(await plan(), store, { gpusOf: () => 1, poolGpus: 1 })).toEqual({ known: 4, rule: "steps" });
    const secondRun = await runLocally(pipeline, store, { cluster, runId: "times-2" });
    expect(secondRun.status).toBe("succeeded");
  });

  it("chooses the rule with the shortest simulated makespan, and the simulation is the pool's policy", () => {
    // Two GPUs, four independent steps. Counted in steps they tie, so the 2-GPU step goes first
    // (larger demand), the two short ones next, and the long one last: 200 + 200 + 500. By
    // remaining work the long one starts at once and the others fit around it: 500 + 200.
    const steps: ScheduleStep[] = [
      { name: "s0", ms: 200, gpus: 1, children: [], parents: 0 },
      { name: "s1", ms: 200, gpus: 2, children: [], parents: 0 },
      { name: "s2", ms: 200, gpus: 1, children: [], parents: 0 },
      { name: "s3", ms: 500, gpus: 1, children: [], parents: 0 },
    ];
    const order = ["s0", "s1", "s2", "s3"];
    expect(simulateMakespan(steps, candidatePriorities(steps, order, "steps", 2), 2)).toBe(900);
    expect(simulateMakespan(steps, candidatePriorities(steps, order, "work", 2), 2)).toBe(700);
    const chosen = chooseSchedule(steps, order, 2);
    const all = CANDIDATES.map((c) => simulateMakespan(steps, candidatePriorities(steps, order, c, 2), 2));
    expect(chosen.makespanMs).toBe(Math.min(...all));
    expect(chosen.candidate).toBe(CANDIDATES[all.indexOf(Math.min(...all))]);
    expect(chosen.makespanMs).toBeLessThanOrEqual(700);
  });
});

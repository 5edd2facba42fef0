/**
 * Priorities from earlier runs' run times (src/runner/run-times.ts): the same step keeps its
 * key across runs; a run records its steps' times; the next run's priorities are the estimated
 * remaining work, so on one GPU a long step starts before a chain of short ones that a count of
 * steps puts first. Without history the planner's priorities stand.
 */
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import { applyRunTimePriorities, runTimeKey } from "../../../src/runner/run-times.js";
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
    expect(await applyRunTimePriorities(fresh, store)).toBe(0);
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

    expect(await applyRunTimePriorities(planned, store)).toBe(4);
    const long = planned.steps.get("long")!.priority;
    const a1 = planned.steps.get("a1")!.priority;
    expect(long).toBeGreaterThan(a1); // 0.8 s of work left vs ~0.15 s
    expect(a1).toBeGreaterThan(planned.steps.get("a2")!.priority);

    const secondRun = await runLocally(pipeline, store, { cluster, runId: "times-2" });
    expect(secondRun.status).toBe("succeeded");
    expect((await startOrder(store, "times-2"))[0]).toBe("long");
  });
});

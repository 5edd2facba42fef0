/**
 * The evaluation split as a pipeline (simulate runtime, local backend): a step lists the group's
 * leaf subtasks, a map over that list (`itemsFrom`) evaluates one subtask per job, and a step
 * recombines them from the map's collection — the shape a real split runs in (the python tier
 * checks the real numbers against an unsplit run).
 */
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import { LMEvalTask } from "../../../src/tasks/lm-eval-task.js";
import { localCluster, tempStore } from "../helpers.js";

describe("evaluation split as list → map → recombine", { timeout: 60_000 }, () => {
  it("one job per listed subtask, recombined into the group's metrics", async () => {
    const store = await tempStore();
    const evaluate = new LMEvalTask({ projectName: "split", taskName: "suite", modelId: "m", config: "tasks: [suite_a, suite_b, suite_c]" });
    await evaluate.createTask({ store });
    const pipeline = new Pipeline({ projectName: "split", pipelineName: "eval" })
      .addStep({ name: "list", baseTaskId: evaluate.id!, executionQueue: "cpu", parameterOverride: { listSubtasks: true } })
      .addStep({ name: "eval", baseTaskId: evaluate.id!, executionQueue: "cpu", map: { itemsFrom: "${list.artifacts.subtasks.url}" }, parameterOverride: { subtask: "${item}" } })
      .addStep({ name: "group", baseTaskId: evaluate.id!, executionQueue: "cpu", parameterOverride: { "recombine.elements": "${eval[*].elements}" } });
    const result = await pipeline.executeLocally({ store, home: store.home, cluster: localCluster(), runtime: "simulate", retryBackoffMs: 10 });
    expect(result.status, JSON.stringify(result.steps, null, 1).slice(0, 3000)).toBe("succeeded");
    expect(result.steps["eval"]!.elements).toMatchObject({ total: 3, succeeded: 3 });
    expect(Object.keys(result.metrics["eval[1]"]!)).toContain("suite_b/acc");
    expect(result.metrics["group"]!["eval/num_subtasks"]).toBe(3);
    expect(Object.keys(result.metrics["group"]!)).toEqual(expect.arrayContaining(["suite_a/acc", "suite_b/acc", "suite_c/acc"]));
  });
});

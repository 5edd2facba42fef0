/**
 * The seed pipeline (shared/seeds/004; examples/seed-pipeline) in simulate mode on the local
 * backend: compression, then the two evals in parallel; the store holds the run.
 */
import { readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import type { RunEvent } from "../../../src/runner/run-types.js";
import { LLMCompressorTask } from "../../../src/tasks/llm-compressor-task.js";
import { LMEvalTask } from "../../../src/tasks/lm-eval-task.js";
import { localCluster, runLocally, tempStore } from "../helpers.js";

describe("the seed pipeline, simulated", () => {
  it("runs the two evals side by side after the compression; the store holds the run", async () => {
    const store = await tempStore();
    const step1 = new LLMCompressorTask({ projectName: "alexandre_debug", taskName: "step1_draft", modelId: "meta-llama/Llama-3.2-1B-Instruct", config: "quantization_w4a16" });
    await step1.createTask({ store });
    const step2 = new LMEvalTask({ projectName: "alexandre_debug", taskName: "step2_draft", modelId: "dummy", modelFromStore: true, config: "openllm" });
    await step2.createTask({ store });
    const step3 = new LMEvalTask({ projectName: "alexandre_debug", taskName: "step3_draft", modelId: "dummy", modelFromStore: true, config: "leaderboard" });
    await step3.createTask({ store });

    const pipeline = new Pipeline({ projectName: "alexandre_debug", pipelineName: "my_pipeline" });
    pipeline.addStep({ name: "step1", baseTaskId: step1.id!, executionQueue: "oneshot-a100x1" });
    pipeline.addStep({ name: "step2", baseTaskId: step2.id!, parents: ["step1"], executionQueue: "oneshot-a100x1", parameterOverride: { "Args/model_id": "${step1.models.output.-1.id}" } });
    pipeline.addStep({ name: "step3", baseTaskId: step3.id!, parents: ["step1"], executionQueue: "oneshot-a100x1", parameterOverride: { "Args/model_id": "${step1.models.output.-1.id}" } });

    const events: RunEvent[] = [];
    const result = await runLocally(pipeline, store, { runtime: "simulate", cluster: localCluster({ gpus: 2 }), onEvent: (e) => events.push(e) });
    expect(result.status, JSON.stringify(result.steps, null, 2)).toBe("succeeded");
    expect(result.simulated).toBe(true);

    const [s1, s2, s3] = ["step1", "step2", "step3"].map((n) => result.steps[n]!);
    // Both evals started after the compression ended, and before either of them ended.
    for (const s of [s2!, s3!]) expect(s.startedAt!).toBeGreaterThanOrEqual(s1!.endedAt!);
    expect(s2!.startedAt!).toBeLessThan(s3!.endedAt!);
    expect(s3!.startedAt!).toBeLessThan(s2!.endedAt!);
    const startIndex = (step: string) => events.findIndex((e) => e.type === "step:start" && e.step === step);
    const successIndex = (step: string) => events.findIndex((e) => e.type === "step:success" && e.step === step);
    expect(Math.max(startIndex("step2"), startIndex("step3"))).toBeLessThan(Math.min(successIndex("step2"), successIndex("step3")));

    // One compressed model, used by both evals by path; a metric per eval.
    expect(result.models).toHaveLength(1);
    const model = result.models[0]!;
    expect(model).toMatchObject({ step: "step1", name: "Llama-3.2-1B-Instruct-W4A16", framework: "compressed-tensors" });
    expect(await store.getModel(model.id)).toMatchObject({ path: model.path, simulated: true, runId: result.runId });
    expect(Object.keys(result.metrics).sort()).toEqual(["step2", "step3"]);
    expect(Object.keys(result.metrics["step2"]!)).toContain("openllm/acc");
    expect(Object.keys(result.metrics["step3"]!)).toContain("leaderboard/acc");
    for (const step of ["step2", "step3"]) {
      const planned = (await store.readJournal(result.runId)).find((e) => e.type === "attempt-planned" && e.step === step);
      expect(planned && "argv" in planned && planned.argv.slice(planned.argv.indexOf("--model"), planned.argv.indexOf("--model") + 2)).toEqual(["--model", model.path]);
    }

    // The store holds the run: its record, and a journal ending with run-finished.
    expect((await store.listRuns()).map((r) => r.id)).toEqual([result.runId]);
    const record = await store.getRun(result.runId);
    expect(record).toMatchObject({ projectName: "alexandre_debug", pipelineName: "my_pipeline" });
    expect(await readdir(store.runDir(result.runId))).toEqual(expect.arrayContaining(["run.json", "journal.jsonl", "steps"]));
    const journal = await store.readJournal(result.runId);
    expect(journal[0]!.type).toBe("run-started");
    expect(journal.at(-1)).toMatchObject({ type: "run-finished", status: "succeeded" });
    expect(journal.filter((e) => e.type === "attempt-finished").map((e) => "status" in e && e.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
  });
});

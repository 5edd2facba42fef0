/**
 * The seed pipeline (shared/seeds/004): compress Llama-3.2-1B-Instruct to W4A16, then evaluate the
 * compressed model on `openllm` and `leaderboard` in parallel, every step on queue
 * `oneshot-a100x1`.
 *
 * `npm run demo` runs it with the embedded defaults (local backend, file store at GPU_DAG_HOME or
 * ~/.gpu-dag) in simulate mode, so it works on a machine without GPUs or the ML tools. Set
 * GPU_DAG_RUNTIME=real to run the real tools (after `gpu-dag setup-python`).
 */
import { LLMCompressorTask, LMEvalTask, Pipeline, type RunEvent } from "../../src/index.js";

const runtime = process.env["GPU_DAG_RUNTIME"] === "real" ? "real" : "simulate";

// 1. Drafts of the tasks that compose the pipeline.
const step1 = new LLMCompressorTask({
  projectName: "alexandre_debug",
  taskName: "step1_draft",
  modelId: "meta-llama/Llama-3.2-1B-Instruct",
  config: "quantization_w4a16",
});
await step1.createTask();

// modelId is a placeholder replaced by step1's output; modelFromStore (the seed's clearml_model=True)
// resolves the store model id to the model's path before the job runs.
const step2 = new LMEvalTask({
  projectName: "alexandre_debug",
  taskName: "step2_draft",
  modelId: "dummy",
  modelFromStore: true,
  config: "openllm",
});
await step2.createTask();

const step3 = new LMEvalTask({
  projectName: "alexandre_debug",
  taskName: "step3_draft",
  modelId: "dummy",
  modelFromStore: true,
  config: "leaderboard",
});
await step3.createTask();

// 2. The pipeline.
const pipeline = new Pipeline({ projectName: "alexandre_debug", pipelineName: "my_pipeline" });

// 3. Steps. `Args/model_id` is the seed's spelling; `modelId` works too.
pipeline.addStep({ name: "step1", baseTaskId: step1.id!, executionQueue: "oneshot-a100x1" });
pipeline.addStep({
  name: "step2",
  baseTaskId: step2.id!,
  parents: ["step1"],
  executionQueue: "oneshot-a100x1",
  parameterOverride: { "Args/model_id": "${step1.models.output.-1.id}" },
});
pipeline.addStep({
  name: "step3",
  baseTaskId: step3.id!,
  parents: ["step1"],
  executionQueue: "oneshot-a100x1",
  parameterOverride: { "Args/model_id": "${step1.models.output.-1.id}" },
});

console.log(pipeline.toMermaid());

// 4. Run. The local backend gives each job its own GPU; without GPUs here the demo's queue is
// served by a pool of fake device ids (cluster config below), which is what `oneshot-a100x1` asks.
const started = Date.now();
const clock = () => `${((Date.now() - started) / 1000).toFixed(2)}s`.padStart(7);
const log = (event: RunEvent) => {
  if (event.type === "step:start") console.log(`${clock()}  start    ${event.step} (job ${event.jobId})`);
  if (event.type === "step:success") console.log(`${clock()}  success  ${event.step}${event.outputs.simulated ? " [simulated]" : ""}`);
  if (event.type === "step:failure") console.log(`${clock()}  FAILED   ${event.step}: ${event.reason}`);
  if (event.type === "step:skipped") console.log(`${clock()}  skipped  ${event.step}: ${event.reason}`);
};

const result = await pipeline.executeLocally({
  runtime,
  onEvent: log,
  cluster: process.env["GPU_DAG_CLUSTER"] ?? { executor: "local", gpus: 2, anyQueue: true, env: {}, requiredEnv: [], setup: [], containers: {}, mounts: [], queues: {} },
});

console.log(`\nrun ${result.runId}: ${result.status}${result.simulated ? " (SIMULATED runtime: no real ML tool ran)" : ""}`);
console.log("models:");
for (const model of result.models) console.log(`  ${model.id}  ${model.name}  (step ${model.step})  ${model.path}`);
console.log("metrics:");
for (const [step, metrics] of Object.entries(result.metrics)) {
  for (const [name, value] of Object.entries(metrics)) console.log(`  ${step}  ${name} = ${value}`);
}
console.log(`recorded in ${result.store}/runs/${result.runId}`);
process.exitCode = result.status === "succeeded" ? 0 : 1;

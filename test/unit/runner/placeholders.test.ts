/**
 * Placeholders resolved at launch from the parents' recorded outputs: model store ids, metrics,
 * artifacts, parameters, pipeline parameters; a store model id resolved to its path for a task
 * with modelFromStore (LMEvalTask in simulate mode).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import { PipelineValidationError } from "../../../src/errors.js";
import { step } from "../../../src/pipeline/refs.js";
import { Task } from "../../../src/tasks/custom-task.js";
import { LMEvalTask } from "../../../src/tasks/lm-eval-task.js";
import { localCluster, plannedArgv, RECORD_SCRIPT, readRecord, runLocally, shTask, tempStore } from "../helpers.js";

const MANIFEST = JSON.stringify({
  models: [
    { name: "first", path: "models/first" },
    { name: "last", path: "@DIR@/models/last", framework: "compressed-tensors" },
  ],
  artifacts: [{ name: "recipe", path: "recipe.yaml" }],
  metrics: { x: 0.25, "openllm/acc": 0.7 },
});

/**
 * A producer making the files of {@link MANIFEST} in its attempt directory and writing the
 * manifest (`@DIR@` → that directory: an absolute path inside it), and a consumer recording the
 * argv it got.
 */
async function drafts(store: Awaited<ReturnType<typeof tempStore>>) {
  const producer = shTask("producer", 'cd "$GPU_DAG_OUTPUT_DIR" && mkdir -p models/first models/last && : > recipe.yaml && printf "%s" "$1" | sed "s#@DIR@#$GPU_DAG_OUTPUT_DIR#g" > outputs.json', {
    manifest: MANIFEST,
  });
  const consumer = new Task({
    projectName: "unit",
    taskName: "consumer",
    command: [process.execPath, "-e", RECORD_SCRIPT, "0", "{model}", "{metric}", "{artifact}", "{mixed}"],
    parameters: { model: "", metric: "", artifact: "", mixed: "" },
  });
  await producer.createTask({ store });
  await consumer.createTask({ store });
  return { producer: producer.id!, consumer: consumer.id! };
}

describe("placeholders at launch", () => {
  it("give the consumer the producer's model store id, metric, artifact path and more", async () => {
    const store = await tempStore();
    const ids = await drafts(store);
    const p = new Pipeline({ projectName: "unit", pipelineName: "resolve" })
      .addParameter("tag", "default-tag")
      .addStep({ name: "producer", baseTaskId: ids.producer, executionQueue: "cpu" })
      .addStep({
        name: "consumer",
        baseTaskId: ids.consumer,
        executionQueue: "cpu", // no declared parent: the placeholders make producer one
        parameterOverride: {
          "Args/model": "${producer.models.output.-1.id}",
          metric: "$<producer.metrics.x>",
          "parameters.artifact": step("producer").artifact("recipe").url,
          mixed: "${producer.models.output.0.name}|$<producer.models.output.-2.url>|${producer.metrics.openllm/acc}|${pipeline.tag}|${producer.id}|$${literal}",
        },
      });
    const result = await runLocally(p, store, { parameters: { tag: "given" } });
    expect(result.status).toBe("succeeded");

    const producerDir = result.steps["producer"]!.attemptDir!;
    const models = result.steps["producer"]!.outputs!.models;
    expect(models.map((m) => [m.name, m.path, m.framework])).toEqual([
      ["first", join(producerDir, "models/first"), "transformers"],
      ["last", join(producerDir, "models/last"), "compressed-tensors"],
    ]);
    // Models got store ids; the store knows them.
    expect(await store.getModel(models[1]!.id)).toMatchObject({ name: "last", path: join(producerDir, "models/last"), runId: result.runId, step: "producer", attempt: 1, simulated: false });
    expect((await store.listModels()).map((m) => m.id).sort()).toEqual(models.map((m) => m.id).sort());

    const expected = [models[1]!.id, "0.25", join(producerDir, "recipe.yaml"), `first|${join(producerDir, "models/first")}|0.7|given|${result.runId}.producer|\${literal}`];
    expect((await readRecord(result.steps["consumer"]!.attemptDir)).argv).toEqual(["0", ...expected]);
    expect(await plannedArgv(store, result.runId, "consumer")).toEqual([[process.execPath, "-e", RECORD_SCRIPT, "0", ...expected]]);
    // The consumer started after the producer finished, though no parent was declared.
    expect(result.steps["consumer"]!.startedAt!).toBeGreaterThanOrEqual(result.steps["producer"]!.endedAt!);
  });

  it("${step.parameters.x} gives the value a step ran with (custom Task parameters too)", async () => {
    const store = await tempStore();
    const ids = await drafts(store);
    const p = new Pipeline({ projectName: "unit", pipelineName: "params" }).addStep({ name: "a", baseTaskId: ids.consumer, executionQueue: "cpu", parameterOverride: { metric: "42" } }).addStep({
      name: "b",
      baseTaskId: ids.consumer,
      executionQueue: "cpu",
      parameterOverride: { model: "${a.parameters.metric}", metric: "$<a.parameters.Args/metric>", artifact: "${a.parameters.taskName}" },
    });
    const result = await runLocally(p, store);
    expect(result.status).toBe("succeeded");
    expect((await readRecord(result.steps["b"]!.attemptDir)).argv).toEqual(["0", "42", "42", "consumer", ""]);
  });

  it("a placeholder whose target has no such output fails the step at launch, naming step, parameter and text", async () => {
    const store = await tempStore();
    const ids = await drafts(store);
    const p = new Pipeline({ projectName: "unit", pipelineName: "missing" })
      .addStep({ name: "producer", baseTaskId: ids.producer, executionQueue: "cpu" })
      .addStep({ name: "bad_index", baseTaskId: ids.consumer, executionQueue: "cpu", parameterOverride: { model: "${producer.models.output.5.id}" } })
      .addStep({ name: "bad_metric", baseTaskId: ids.consumer, executionQueue: "cpu", parameterOverride: { metric: "${producer.metrics.nope}" } });
    const result = await runLocally(p, store);
    expect(result.status).toBe("failed");
    expect(result.steps["bad_index"]).toMatchObject({
      status: "failed",
      attempts: 1,
      reason: 'step "bad_index", parameterOverride.model: placeholder "${producer.models.output.5.id}": step "producer" produced 2 model(s), index 5 is out of range',
    });
    expect(result.steps["bad_metric"]!.reason).toBe(
      'step "bad_metric", parameterOverride.metric: placeholder "${producer.metrics.nope}": step "producer" recorded no metric "nope" (metrics: x, openllm/acc)',
    );
    expect(await plannedArgv(store, result.runId, "bad_index")).toEqual([]);
  });

  it("modelFromStore: a store model id from a placeholder runs with the model's path (LMEvalTask, simulate mode)", async () => {
    const store = await tempStore();
    const ids = await drafts(store);
    const evalTask = new LMEvalTask({ projectName: "unit", taskName: "eval", modelId: "dummy", modelFromStore: true, config: "openllm" });
    await evalTask.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "from-store" })
      .addStep({ name: "producer", baseTaskId: ids.producer, executionQueue: "cpu" })
      .addStep({ name: "eval", baseTaskId: evalTask.id!, parents: ["producer"], executionQueue: "cpu", parameterOverride: { "Args/model_id": "${producer.models.output.-1.id}" } });
    const result = await runLocally(p, store, { runtime: "simulate", cluster: localCluster({ env: { GPU_DAG_SIMULATE_SECONDS: "0" } }) });
    expect(result.status, result.steps["eval"]!.reason).toBe("succeeded");
    expect(await plannedArgv(store, result.runId, "eval")).toEqual([
      [
        "python3",
        "-m",
        "gpu_dag_runtime.simulate",
        "evaluate",
        "--model",
        join(result.steps["producer"]!.attemptDir!, "models/last"),
        "--backend",
        "vllm",
        "--tasks",
        "openllm",
        "--batch-size",
        "auto",
        "--device",
        "cpu",
      ],
    ]);
    const planned = (await store.readJournal(result.runId)).find((e) => e.type === "attempt-planned" && e.step === "eval");
    expect(planned && "parameters" in planned && planned.parameters["modelId"]).toBe(result.steps["producer"]!.outputs!.models[1]!.id);
    expect(result.simulated).toBe(true);
    expect(result.steps["eval"]!.outputs!.simulated).toBe(true);
    expect(Object.keys(result.metrics["eval"]!)).toContain("openllm/acc");
  });

  it("modelFromStore with a literal id that is not in the store is refused before the first job; createRun records nothing", async () => {
    const store = await tempStore();
    const ids = await drafts(store);
    const evalTask = new LMEvalTask({ projectName: "unit", taskName: "eval", modelId: "model_000000000000", modelFromStore: true, config: "openllm" });
    await evalTask.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "no-model" })
      .addParameter("model", "model_111111111111")
      .addStep({ name: "producer", baseTaskId: ids.producer, executionQueue: "cpu" })
      .addStep({ name: "eval", baseTaskId: evalTask.id!, parents: ["producer"], executionQueue: "cpu" })
      .addStep({ name: "eval_param", baseTaskId: evalTask.id!, parents: ["producer"], executionQueue: "cpu", parameterOverride: { modelId: "${pipeline.model}" } });
    const error = await runLocally(p, store, { runtime: "simulate" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toBe(
      [
        'pipeline "no-model" is invalid (2 problems):',
        '  - step "eval", modelId: "model_000000000000" is not a model in the store (modelFromStore is set)',
        '  - step "eval_param", parameterOverride.modelId: "model_111111111111" is not a model in the store (modelFromStore is set)',
      ].join("\n"),
    );
    // The parent never ran: nothing was recorded.
    expect(await store.listRuns()).toEqual([]);
  });

  it("modelFromStore with an id known only at launch (a parent's metric) that is not in the store fails the step, naming the id", async () => {
    const store = await tempStore();
    const ids = await drafts(store);
    const evalTask = new LMEvalTask({ projectName: "unit", taskName: "eval", modelId: "dummy", modelFromStore: true, config: "openllm" });
    await evalTask.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "no-model" })
      .addStep({ name: "producer", baseTaskId: ids.producer, executionQueue: "cpu" })
      .addStep({ name: "eval", baseTaskId: evalTask.id!, executionQueue: "cpu", parameterOverride: { modelId: "model-${producer.metrics.x}" } });
    const result = await runLocally(p, store, { runtime: "simulate" });
    expect(result.steps["eval"]).toMatchObject({
      status: "failed",
      reason: 'step "eval": modelId "model-0.25" is not a model in the store (modelFromStore is set)',
    });
  });
});

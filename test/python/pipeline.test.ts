/**
 * The real pipeline on a tiny local model, run by gpu-dag itself (task drafts, Pipeline,
 * placeholders, local backend, file store) with every tool for real: llm-compressor oneshot
 * (GPTQ W4A16) → lm-eval (hf backend) on the original and on the compressed model over a local
 * task group → 20 answers from the compressed model through a real OpenAI-compatible server
 * (`transformers serve`) started inside the generation job.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FileStore, GenerateTask, LLMCompressorTask, LMEvalTask, listModelRows, modelLineage, Pipeline, type RunResult, recoveryReport } from "../../src/index.js";
import { roundTo } from "../../src/results/render.js";
import { buildTinyFixture, pythonDir, pythonEnv, readJsonl, type TinyFixture } from "./env.js";

const env = await pythonEnv();

// `$scheme` exercises recipeArgs substitution (done by the task before the job runs).
const COMPRESS_CONFIG = (calibration: string) => `recipe: |
  quant_stage:
    quant_modifiers:
      GPTQModifier:
        ignore: ["lm_head"]
        scheme: $scheme
        targets: ["Linear"]
        dampening_frac: 0.01
recipeArgs: { scheme: W4A16 }
dataset: ${calibration}
numSamples: 16
maxSeqLength: 64
saveCompressed: true
`;

describe("python tier: a gpu-dag pipeline compress → evaluate ×2 → generate on a tiny model", () => {
  const model = () => result.models[0]!;
  const python = env.python;
  let fixture: TinyFixture;
  let home: string;
  let store: FileStore;
  let result: RunResult;

  beforeAll(async () => {
    fixture = await buildTinyFixture(python);
    home = await mkdtemp(join(tmpdir(), "gpu-dag-pipeline-"));
    store = new FileStore({ home });
    const project = { projectName: "tiny", taskName: "" };

    const compress = new LLMCompressorTask({ ...project, taskName: "compress", modelId: fixture.model, config: COMPRESS_CONFIG(fixture.calibration) });
    await compress.createTask({ store });
    const evaluate = new LMEvalTask({
      ...project,
      taskName: "evaluate",
      modelId: fixture.model,
      config: `tasks: [${fixture.group}]`,
      includePath: fixture.tasks_dir,
      backend: "hf",
      batchSize: 4,
      device: "cpu",
    });
    await evaluate.createTask({ store });
    const generate = new GenerateTask({
      ...project,
      taskName: "generate",
      modelId: "set-by-the-pipeline",
      modelFromStore: true,
      serverType: "transformers",
      inputFile: fixture.generation_input,
      promptConfig: fixture.prompt_config,
      maxConcurrency: 4,
      serverTimeout: 300,
      extraArguments: "++inference.temperature=0.6 ++inference.tokens_to_generate=16",
    });
    await generate.createTask({ store });

    const pipeline = new Pipeline({ projectName: "tiny", pipelineName: "compress-eval-generate" });
    pipeline.addStep({ name: "compress", baseTaskId: compress.id!, executionQueue: "cpu" });
    pipeline.addStep({ name: "eval_original", baseTaskId: evaluate.id!, executionQueue: "cpu" });
    pipeline.addStep({ name: "eval_compressed", baseTaskId: evaluate.id!, executionQueue: "cpu", parameterOverride: { "Args/model_id": "${compress.models.output.-1.id}", modelFromStore: true } });
    pipeline.addStep({ name: "generate", baseTaskId: generate.id!, executionQueue: "cpu", parameterOverride: { modelId: "${compress.models.output.-1.id}" } });

    result = await pipeline.executeLocally({
      store,
      home,
      runtime: "real",
      cluster: {
        executor: "local",
        gpus: 0,
        // Two CPU jobs at a time on this 2-core machine (the evaluations run side by side).
        maxParallel: 2,
        python,
        env: { HF_HUB_OFFLINE: "1", HF_DATASETS_OFFLINE: "1", TOKENIZERS_PARALLELISM: "false", PYTHONPATH: pythonDir },
      },
    });
  });

  it("runs every step for real and succeeds", () => {
    const detail = Object.fromEntries(Object.entries(result.steps).map(([k, s]) => [k, `${s.status} ${s.reason ?? ""}`]));
    expect(result.status, JSON.stringify(detail, null, 2)).toBe("succeeded");
    expect(result.simulated).toBe(false);
  });

  it("compressed with llm-compressor: the model directory has the quantization config it writes", async () => {
    expect(result.models).toHaveLength(1);
    const model = result.models[0]!;
    expect(model.step).toBe("compress");
    expect(model.name).toBe("model-W4A16");
    const config = JSON.parse(await readFile(join(model.path, "config.json"), "utf8")) as Record<string, any>;
    expect(config["quantization_config"]["quant_method"]).toBe("compressed-tensors");
    const group = Object.values(config["quantization_config"]["config_groups"] as Record<string, any>)[0];
    expect(group["weights"]["num_bits"]).toBe(4);
    expect(existsSync(join(model.path, "tokenizer.json"))).toBe(true);
    const recipe = result.steps["compress"]!.outputs!.artifacts.find((a) => a.name === "recipe")!;
    expect(await readFile(recipe.path, "utf8")).toContain("scheme: W4A16");
    // The store knows the model by the id the placeholder gave the next steps.
    expect((await store.getModel(model.id))?.path).toBe(model.path);
  });

  it("evaluated the original and the compressed model: lm-eval metrics are numbers recorded in the store", async () => {
    for (const step of ["eval_original", "eval_compressed"]) {
      const metrics = result.metrics[step]!;
      for (const name of ["tiny_arith/acc", "tiny_arith/acc_stderr", "tiny_words/acc", "tiny_suite/acc"]) {
        expect(typeof metrics[name], `${step} ${name}`).toBe("number");
        expect(Number.isFinite(metrics[name])).toBe(true);
      }
      expect(Object.keys(metrics).some((k) => k.includes(",none"))).toBe(false);
    }
    // The compressed model's evaluation ran on the model's path, resolved from its store id.
    const journal = await store.readJournal(result.runId);
    const planned = journal.find((e) => e.type === "attempt-planned" && e.step === "eval_compressed");
    const argv = planned && planned.type === "attempt-planned" ? planned.argv : [];
    expect(argv[argv.indexOf("--model") + 1]).toBe(result.models[0]!.path);
    // Metrics are in the store's journal, not only in memory.
    const finished = journal.filter((e) => e.type === "attempt-finished" && e.status === "succeeded" && e.step === "eval_original");
    expect(finished).toHaveLength(1);
  });

  it("generated 20 non-empty answers with the compressed model through a real OpenAI-compatible server", async () => {
    const outputs = result.steps["generate"]!.outputs!;
    const output = outputs.artifacts.find((a) => a.name === "output")!;
    const rows = await readJsonl(output.path);
    expect(rows).toHaveLength(20);
    rows.forEach((row) => {
      expect(typeof row["generation"]).toBe("string");
      expect((row["generation"] as string).length).toBeGreaterThan(0);
    });
    expect(outputs.metrics["generation/num_rows"]).toBe(20);
    const stderr = await readFile(join(result.steps["generate"]!.attemptDir!, "stderr.log"), "utf8");
    expect(stderr).toMatch(/model server stopped/);
  });

  it("model lineage: made by the compression step from the tiny base model, measured by its evaluation with lm-eval's metrics", async () => {
    const model = result.models[0]!;
    const lineage = await modelLineage(store, model.id);
    expect(lineage.producer).toMatchObject({ step: "compress", task: { type: "llm-compressor", taskName: "compress" } });
    expect(lineage.producer?.recipe?.text).toContain("scheme: W4A16");
    expect(lineage.parent).toEqual({ ref: fixture.model });
    expect(lineage.files.path).toBe(model.path);
    expect(lineage.files.artifacts.map((a) => a.name)).toContain("recipe");
    // Its one evaluation (the generation read it too, but measures nothing): with lm-eval's metrics.
    expect(lineage.evaluations.map((e) => [e.runId, e.step])).toEqual([[result.runId, "eval_compressed"]]);
    expect(lineage.evaluations[0]!.metrics).toEqual(result.metrics["eval_compressed"]);
    expect((await listModelRows(store)).map((r) => [r.model.id, r.parent, r.evaluations])).toEqual([[model.id, fixture.model, 1]]);
  });

  it("recovery of the compressed model against the base model: lm-eval's group shown as its members, each ratio from the recorded scores", async () => {
    const report = await recoveryReport(store, { baseline: fixture.model, candidates: [model().id] });
    expect(report.sections.map((s) => s.category)).toEqual([fixture.group]);
    const rows = report.sections[0]!.rows;
    expect(rows.map((r) => r.benchmark)).toEqual(["tiny_arith", "tiny_words"]);
    const [base, cand] = [result.metrics["eval_original"]!, result.metrics["eval_compressed"]!];
    for (const row of rows) {
      // acc_norm where lm-eval reports it, else acc (the model-card choice).
      expect(row.metric).toBe(base[`${row.benchmark}/acc_norm`] !== undefined ? "acc_norm" : "acc");
      const b = base[`${row.benchmark}/${row.metric}`]!;
      const c = cand[`${row.benchmark}/${row.metric}`]!;
      expect(row.baseline!.mean).toBe(b);
      expect(row.candidates[0]!.recovery).toBe(b === 0 ? null : roundTo((c / b) * 100, 2));
    }
  });
});

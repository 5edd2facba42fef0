/**
 * A study for real on the tiny local model: two trials sweeping GPTQ's `dampening_frac` (a
 * `${pipeline.damp}` parameter reaching the recipe through `recipeArgs`), each trial a child run
 * that compresses with llm-compressor and evaluates the result with lm-eval, driven two at a time
 * by the study's controller; the best trial is the one with the higher accuracy, and `study best`
 * names its run. Kept small for the tier's time budget: one task (tiny_arith), `limit: 8`.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FileStore, LLMCompressorTask, LMEvalTask, Pipeline, Study, type StudyView } from "../../src/index.js";
import { buildTinyFixture, pythonDir, pythonEnv, type TinyFixture } from "./env.js";

const env = await pythonEnv();

const COMPRESS_CONFIG = (calibration: string) => `recipe: |
  quant_stage:
    quant_modifiers:
      GPTQModifier:
        ignore: ["lm_head"]
        scheme: W4A16
        targets: ["Linear"]
        dampening_frac: $damp
recipeArgs: { damp: 0.01 }
dataset: ${calibration}
numSamples: 16
maxSeqLength: 64
saveCompressed: true
`;

describe("python tier: a 2-trial study over a compression argument on a tiny model", () => {
  let fixture: TinyFixture;
  let store: FileStore;
  let view: StudyView;

  beforeAll(async () => {
    fixture = await buildTinyFixture(env.python);
    const home = await mkdtemp(join(tmpdir(), "gpu-dag-study-"));
    store = new FileStore({ home });
    const project = { projectName: "tiny", taskName: "" };
    const compress = new LLMCompressorTask({ ...project, taskName: "compress", modelId: fixture.model, config: COMPRESS_CONFIG(fixture.calibration) });
    await compress.createTask({ store });
    const evaluate = new LMEvalTask({
      ...project,
      taskName: "evaluate",
      modelId: "set-by-the-pipeline",
      modelFromStore: true,
      config: "tasks: [tiny_arith]",
      includePath: fixture.tasks_dir,
      backend: "hf",
      batchSize: 4,
      device: "cpu",
      limit: 8,
    });
    await evaluate.createTask({ store });

    const pipeline = new Pipeline({ projectName: "tiny", pipelineName: "damp-sweep" }).addParameter("damp", 0.01);
    pipeline.addStep({ name: "compress", baseTaskId: compress.id!, executionQueue: "cpu", parameterOverride: { recipeArgs: { damp: "${pipeline.damp}" } } });
    pipeline.addStep({ name: "eval", baseTaskId: evaluate.id!, executionQueue: "cpu", parameterOverride: { modelId: "${compress.models.output.-1.id}" } });

    view = await new Study({
      name: "damp",
      pipeline,
      parameters: { damp: [0.01, 0.1] },
      objective: { expression: 'eval.metrics["tiny_arith/acc"]', goal: "maximize" },
      concurrency: 2,
      store,
      home,
      runtime: "real",
      cluster: {
        executor: "local",
        gpus: 0,
        maxParallel: 2,
        python: env.python,
        env: { HF_HUB_OFFLINE: "1", HF_DATASETS_OFFLINE: "1", TOKENIZERS_PARALLELISM: "false", PYTHONPATH: pythonDir },
      },
    }).run();
  });

  it("both trials compressed and evaluated for real; the best trial is the one with the higher accuracy", async () => {
    const detail = JSON.stringify(view.trials, null, 2);
    expect(view.status, detail).toBe("succeeded");
    expect(view.trials.map((t) => [t.params["damp"], t.status])).toEqual([
      [0.01, "succeeded"],
      [0.1, "succeeded"],
    ]);
    for (const trial of view.trials) {
      expect(Number.isFinite(trial.objective), detail).toBe(true);
      // The trial's run compressed with its own dampening_frac and evaluated that model.
      const journal = await store.readJournal(trial.runId);
      const compressed = journal.find((e) => e.type === "attempt-finished" && e.step === "compress" && e.status === "succeeded");
      const outputs = compressed && compressed.type === "attempt-finished" ? compressed.outputs! : undefined;
      const recipe = outputs?.artifacts.find((a) => a.name === "recipe");
      expect(await readFile(recipe!.path, "utf8")).toContain(`dampening_frac: ${trial.params["damp"]}`);
      const model = outputs!.models[0]!;
      const config = JSON.parse(await readFile(join(model.path, "config.json"), "utf8")) as { quantization_config: { quant_method: string } };
      expect(config.quantization_config.quant_method).toBe("compressed-tensors");
      const planned = journal.find((e) => e.type === "attempt-planned" && e.step === "eval");
      const argv = planned && planned.type === "attempt-planned" ? planned.argv : [];
      expect(argv[argv.indexOf("--model") + 1]).toBe(model.path);
    }
    const best = [...view.trials].sort((a, b) => b.objective! - a.objective! || a.trial - b.trial)[0]!;
    expect(view.best?.trial).toBe(best.trial);
    expect(view.best?.runId).toBe(best.runId);
  });
});

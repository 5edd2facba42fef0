/**
 * The GPU check's driver, bundled by prepare.sh into `.gpu-check/gpu-dag/gpu-check.mjs` and run by
 * run.sh on the device: gpu-dag's own Pipeline on the local backend, GPUs detected by `nvidia-smi`
 * (CUDA_VISIBLE_DEVICES unset), every step on a one-GPU queue:
 *
 *   compress (llm-compressor GPTQ W4A16) ─▶ eval_compressed (lm-eval hf)
 *            └────────────────────────────▶ generate (`transformers serve` in the job)
 *   eval_base (lm-eval hf on the original model)
 *
 * Writes the JSON summary (settings.ts names the inputs) and exits 0 only when every check passed.
 * `--self-test` only loads the bundle and prints the gpu-dag version (prepare.sh's smoke test).
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { detectGpus, FileStore, GenerateTask, LLMCompressorTask, LMEvalTask, Pipeline, type RunEvent } from "../../src/index.js";
import { packageVersion } from "../../src/package-root.js";
import { readProbes, readSamples } from "./evidence.js";
import { readSettings } from "./settings.js";
import { checks, type StepSummary, summariseStep } from "./summary.js";

const QUEUE = "gpu-x1";
const STEPS = ["compress", "eval_base", "eval_compressed", "generate"] as const;

interface Fixture {
  model: string;
  calibration: string;
  generation_input: string;
  prompt_config: string;
  tasks_dir: string;
  group: string;
}

// The task's config: the recipe (GPTQ W4A16 on every Linear but lm_head) and its calibration data.
const compressConfig = (calibration: string, numSamples: number, maxSeqLength: number) => `recipe: |
  quant_stage:
    quant_modifiers:
      GPTQModifier:
        ignore: ["lm_head"]
        scheme: W4A16
        targets: ["Linear"]
        dampening_frac: 0.01
dataset: ${JSON.stringify(calibration)}
numSamples: ${numSamples}
maxSeqLength: ${maxSeqLength}
saveCompressed: true
`;

function nvidiaSmi(args: string[]): string[] {
  try {
    return execFileSync("nvidia-smi", args, { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "pipe"] })
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
  } catch (error) {
    return [`nvidia-smi ${args.join(" ")} failed: ${(error as Error).message.split("\n")[0]}`];
  }
}

async function main(): Promise<number> {
  if (process.argv.includes("--self-test")) {
    console.log(`gpu-dag ${packageVersion()} bundle ok (node ${process.version})`);
    return 0;
  }
  const settings = readSettings();
  const fixture = JSON.parse(readFileSync(settings.fixture, "utf8")) as Fixture;
  const visibleBefore = process.env["CUDA_VISIBLE_DEVICES"];
  if (visibleBefore !== undefined) throw new Error(`gpu-check: CUDA_VISIBLE_DEVICES is set (${JSON.stringify(visibleBefore)}); run.sh unsets it so that the pool detects GPUs with nvidia-smi`);
  const detected = detectGpus();
  const home = join(settings.work, "store");
  const store = new FileStore({ home });
  const project = { projectName: "gpu-check", taskName: "" };

  const compress = new LLMCompressorTask({
    ...project,
    taskName: "compress",
    modelId: fixture.model,
    config: compressConfig(fixture.calibration, settings.numSamples, settings.maxSeqLength),
  });
  await compress.createTask({ store });
  const evaluate = new LMEvalTask({
    ...project,
    taskName: "evaluate",
    modelId: fixture.model,
    config: `tasks: [${fixture.group}]`,
    includePath: fixture.tasks_dir,
    backend: "hf",
    batchSize: settings.batchSize,
    device: settings.device,
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
    serverTimeout: 240,
    extraArguments: "++inference.temperature=0.6 ++inference.tokens_to_generate=16",
  });
  await generate.createTask({ store });

  const compressed = "${compress.models.output.-1.id}";
  const pipeline = new Pipeline({ projectName: "gpu-check", pipelineName: "compress-eval-generate" });
  pipeline.addStep({ name: "compress", baseTaskId: compress.id!, executionQueue: QUEUE, timeLimit: "5m" });
  pipeline.addStep({ name: "eval_base", baseTaskId: evaluate.id!, executionQueue: QUEUE, timeLimit: "4m" });
  pipeline.addStep({ name: "eval_compressed", baseTaskId: evaluate.id!, executionQueue: QUEUE, timeLimit: "4m", parameterOverride: { "Args/model_id": compressed, modelFromStore: true } });
  pipeline.addStep({ name: "generate", baseTaskId: generate.id!, executionQueue: QUEUE, timeLimit: "5m", parameterOverride: { modelId: compressed } });

  const events: Array<{ at: number; type: string; step?: string; detail?: string }> = [];
  const onEvent = (event: RunEvent) => {
    if (!event.type.startsWith("step:")) return;
    const step = "step" in event ? event.step : undefined;
    const detail = event.type === "step:failure" || event.type === "step:skipped" ? event.reason : event.type === "step:waiting" ? event.reason : undefined;
    events.push({ at: event.at, type: event.type, ...(step ? { step } : {}), ...(detail ? { detail } : {}) });
    console.error(`[gpu-check] ${new Date(event.at).toISOString()} ${event.type} ${step ?? ""} ${detail ?? ""}`);
  };
  const result = await pipeline.executeLocally({
    store,
    home,
    runtime: "real",
    onEvent,
    runTimeLimitSeconds: settings.timeoutS,
    cluster: {
      executor: "local",
      python: settings.python,
      leaseDir: join(settings.work, "leases"),
      env: { HF_HUB_OFFLINE: "1", HF_DATASETS_OFFLINE: "1", TOKENIZERS_PARALLELISM: "false", PYTHONUNBUFFERED: "1", GPU_CHECK_PROBE_DIR: settings.probeDir },
    },
  });

  const probes = readProbes(settings.probeDir);
  const samples = readSamples(settings.samples);
  const steps: Record<string, StepSummary> = {};
  for (const name of STEPS) steps[name] = summariseStep(result, name, probes, samples);
  const list = checks(result, steps, detected, settings.device);
  const summary = {
    ok: list.every((c) => c.ok),
    date: new Date().toISOString(),
    host: hostname(),
    device: settings.device,
    gpus: {
      poolDetected: detected,
      nvidiaSmiL: nvidiaSmi(["-L"]),
      query: nvidiaSmi(["--query-gpu=index,name,memory.total,driver_version", "--format=csv,noheader"]),
      cudaVisibleDevicesBefore: visibleBefore ?? null,
    },
    node: process.version,
    gpuDag: packageVersion(),
    preflight: settings.preflight ? JSON.parse(readFileSync(settings.preflight, "utf8")) : null,
    run: { id: result.runId, status: result.status, reason: result.reason ?? null, wallS: (result.endedAt - result.startedAt) / 1000, store: home },
    checks: list,
    steps,
    events: events.map((e) => ({ ...e, atS: (e.at - result.startedAt) / 1000 })),
    gpuSampleCount: samples.length,
  };
  writeFileSync(settings.summary, JSON.stringify(summary, null, 2) + "\n");
  for (const check of list) console.error(`[gpu-check] ${check.ok ? "ok  " : "FAIL"} ${check.name}: ${check.detail}`);
  for (const [name, step] of Object.entries(steps))
    console.error(`[gpu-check] ${name}: ${step.status} in ${step.wallS ?? "?"} s on ${JSON.stringify(step.deviceNames)} (CUDA_VISIBLE_DEVICES ${JSON.stringify(step.cudaVisibleDevices)})`);
  console.error(`[gpu-check] summary: ${settings.summary} (${summary.ok ? "all checks passed" : "some checks FAILED"})`);
  return summary.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 2;
  },
);

/**
 * Synthetic stores for the benchmarks: runs shaped like the seed pipeline's (3 steps: a
 * compression and two evaluations, a model, two metrics, a pipeline parameter, a name and tags;
 * journals of the real shape, ~4 KB each), and one big layered DAG, written directly as files.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { JournalEntry, RunRecord } from "../../src/store/records.js";

/** One seed-pipeline-shaped run: its record and journal. */
export function syntheticRun(home: string, i: number, t0: number): { record: RunRecord; journal: JournalEntry[] } {
  const id = `20261201-${String(100000 + Math.floor(i / 10)).slice(1)}-${i.toString(16).padStart(6, "0")}`;
  const at = t0 + i * 1000;
  const numSamples = [128, 256, 512, 1024][i % 4]!;
  const recipe = 'quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n      ignore: ["lm_head"]\n      targets: ["Linear"]\n      scheme: "W4A16"\n';
  const steps = ["step1", "step2", "step3"];
  const record: RunRecord = {
    id,
    name: `w4a16-${numSamples}`,
    tags: ["sweep", i % 2 ? "odd" : "even"],
    projectName: "alexandre_debug",
    pipelineName: "my_pipeline",
    createdAt: new Date(at).toISOString(),
    cluster: { name: "local", source: "builtin:local" },
    pipeline: {
      version: 1,
      projectName: "alexandre_debug",
      pipelineName: "my_pipeline",
      parameters: { numSamples: { default: 512 } },
      tasks: {},
      defaults: {},
      steps: steps.map((name, k) => ({ name, baseTaskId: `task_${k}`, parents: k ? ["step1"] : [], executionQueue: "oneshot-a100x1", parameterOverride: {} })),
    },
    tasks: [],
    mode: "local",
    options: { runtime: "simulate", parameters: { numSamples } },
  };
  const model = `model_${i.toString(16).padStart(12, "0")}`;
  const modelPath = `${home}/runs/${id}/steps/step1/attempt-1/model`;
  const journal: JournalEntry[] = [{ type: "run-started", at, controller: `pid ${i}` }];
  steps.forEach((step, k) => {
    const t = at + 10 + k * 100;
    const argv =
      k === 0
        ? ["python3", "-m", "gpu_dag_runtime.compress", "--model", "meta-llama/Llama-3.2-1B-Instruct", "--recipe-yaml", recipe, "--num-samples", String(numSamples)]
        : ["python3", "-m", "gpu_dag_runtime.evaluate", "--model", modelPath, "--tasks", k === 1 ? "openllm" : "leaderboard", "--batch-size", "auto"];
    journal.push({
      type: "attempt-planned",
      at: t,
      step,
      attempt: 1,
      jobName: `gd-${id}-${step}-a1`,
      argv,
      parameters: { modelId: k === 0 ? "meta-llama/Llama-3.2-1B-Instruct" : model, config: k === 0 ? "quantization_w4a16" : k === 1 ? "openllm" : "leaderboard" },
      queue: "oneshot-a100x1",
    });
    journal.push({ type: "job-submitted", at: t + 1, step, attempt: 1, backendJobId: `gd-${id}-${step}-a1` });
    journal.push({ type: "job-started", at: t + 2, step, attempt: 1 });
    const metrics: Record<string, number> = k === 0 ? { "compress/duration_s": 30 + (i % 7) } : { [k === 1 ? "openllm/acc" : "leaderboard/acc"]: 0.2 + ((i * 37 + k * 11) % 600) / 1000 };
    journal.push({
      type: "attempt-finished",
      at: t + 90,
      step,
      attempt: 1,
      status: "succeeded",
      exitCode: 0,
      infrastructure: false,
      reason: "",
      outputs: {
        models: k === 0 ? [{ id: model, name: "Llama-3.2-1B-Instruct-W4A16", path: modelPath, framework: "compressed-tensors" }] : [],
        artifacts: [{ id: `artifact_${i}_${k}`, name: k === 0 ? "recipe" : "results", path: `${home}/runs/${id}/steps/${step}/attempt-1/${k === 0 ? "recipe.yaml" : "results.json"}` }],
        metrics,
        simulated: true,
      },
    });
  });
  journal.push({ type: "run-finished", at: at + 400, status: "succeeded" });
  return { record, journal };
}

/** Writes `runs` such runs into the store `home` (files only; the index is built on first read). */
export function writeSyntheticStore(home: string, runs: number): void {
  const t0 = Date.parse("2026-11-01T00:00:00Z");
  mkdirSync(join(home, "runs"), { recursive: true });
  for (let i = 0; i < runs; i++) {
    const { record, journal } = syntheticRun(home, i, t0);
    const runDir = join(home, "runs", record.id);
    mkdirSync(runDir);
    writeFileSync(join(runDir, "run.json"), JSON.stringify(record, null, 2));
    writeFileSync(join(runDir, "journal.jsonl"), journal.map((e) => JSON.stringify(e)).join("\n") + "\n");
  }
}

/** A run of `n` steps in layers of 50 (parents in the layer before), every step in state `final`, or the last one pending. */
export function bigRun(home: string, id: string, n: number, live: boolean): void {
  const width = 50;
  const names = Array.from({ length: n }, (_, i) => `s${String(i).padStart(4, "0")}`);
  const parentsOf = (i: number) => {
    const layer = Math.floor(i / width);
    if (layer === 0) return [];
    const before = (layer - 1) * width;
    return [...new Set([before + (i % width), before + ((i * 7) % width), before + ((i * 13) % width)].slice(0, 1 + (i % 3)))].map((k) => names[k]!);
  };
  const t0 = Date.now() - 60_000;
  const record: RunRecord = {
    id,
    projectName: "bench",
    pipelineName: `dag-${n}`,
    createdAt: new Date(t0).toISOString(),
    cluster: { name: "local", source: "builtin:local" },
    pipeline: {
      version: 1,
      projectName: "bench",
      pipelineName: `dag-${n}`,
      parameters: {},
      tasks: {},
      defaults: {},
      steps: names.map((name, i) => ({ name, baseTaskId: "t", parents: parentsOf(i), executionQueue: "cpu", parameterOverride: {} })),
    },
    tasks: [],
    mode: "local",
    options: {},
  } as unknown as RunRecord;
  const journal: JournalEntry[] = [{ type: "run-started", at: t0, controller: "pid 1" }];
  names.forEach((step, i) => {
    const at = t0 + Math.floor(i / width) * 1000;
    journal.push({ type: "attempt-planned", at, step, attempt: 1, jobName: `gd-${id}-${step}-a1`, argv: ["true"], parameters: {}, queue: "cpu" });
    journal.push({ type: "job-submitted", at: at + 1, step, attempt: 1, backendJobId: `j${i}` });
    if (live && i === n - 1) return;
    journal.push({ type: "job-started", at: at + 2, step, attempt: 1 });
    journal.push({
      type: "attempt-finished",
      at: at + 900,
      step,
      attempt: 1,
      status: "succeeded",
      exitCode: 0,
      infrastructure: false,
      reason: "",
      outputs: { models: [], artifacts: [], metrics: {}, simulated: false },
    });
  });
  if (!live) journal.push({ type: "run-finished", at: t0 + 30_000, status: "succeeded" });
  mkdirSync(join(home, "runs", id), { recursive: true });
  writeFileSync(join(home, "runs", id, "run.json"), JSON.stringify(record));
  writeFileSync(join(home, "runs", id, "journal.jsonl"), journal.map((e) => JSON.stringify(e)).join("\n") + "\n");
}

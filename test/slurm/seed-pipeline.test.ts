/**
 * The seed pipeline (examples/seed-pipeline) on the real Slurm through sshd: queue
 * `oneshot-a100x1` maps to the fake-GPU partition `gpu-a100`; the simulate runtime runs as a real
 * job on the cluster (the job-side runtime is shipped there). Compared with the same pipeline on
 * the local backend: same result shape.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClusterConfig, FileStore, LLMCompressorTask, LMEvalTask, Pipeline, type RunEvent, type RunResult } from "../../src/index.js";
import { pipelineClusterConfig, slurmTestEnv } from "./slurm-test-env.js";

const env = slurmTestEnv();

function slurmConfig(): ClusterConfig {
  return pipelineClusterConfig(env, { GPU_DAG_SIMULATE_SECONDS: "2" });
}

async function seedPipeline(home: string): Promise<Pipeline> {
  const store = new FileStore({ home });
  const step1 = new LLMCompressorTask({ projectName: "alexandre_debug", taskName: "step1_draft", modelId: "meta-llama/Llama-3.2-1B-Instruct", config: "quantization_w4a16" });
  await step1.createTask({ store });
  const step2 = new LMEvalTask({ projectName: "alexandre_debug", taskName: "step2_draft", modelId: "dummy", modelFromStore: true, config: "openllm" });
  await step2.createTask({ store });
  const step3 = new LMEvalTask({ projectName: "alexandre_debug", taskName: "step3_draft", modelId: "dummuy", modelFromStore: true, config: "leaderboard" });
  await step3.createTask({ store });
  const pipeline = new Pipeline({ projectName: "alexandre_debug", pipelineName: "my_pipeline" });
  pipeline.addStep({ name: "step1", baseTaskId: step1.id!, executionQueue: "oneshot-a100x1" });
  for (const [name, task] of [
    ["step2", step2],
    ["step3", step3],
  ] as const) {
    pipeline.addStep({ name, baseTaskId: task.id!, parents: ["step1"], executionQueue: "oneshot-a100x1", parameterOverride: { "Args/model_id": "${step1.models.output.-1.id}" } });
  }
  return pipeline;
}

describe("seed pipeline on the real Slurm over SSH", () => {
  let home: string;
  let slurm: RunResult;
  let local: RunResult;
  const events: RunEvent[] = [];

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "gd-seed-slurm-"));
    slurm = await (await seedPipeline(home)).executeLocally({ home, cluster: slurmConfig(), runtime: "simulate", onEvent: (e) => events.push(e) });
    const localHome = await mkdtemp(join(tmpdir(), "gd-seed-local-"));
    local = await (await seedPipeline(localHome)).executeLocally({
      home: localHome,
      runtime: "simulate",
      cluster: { executor: "local", gpus: 2, anyQueue: true, env: { GPU_DAG_SIMULATE_SECONDS: "0.2" }, requiredEnv: [], setup: [], containers: {}, mounts: [], queues: {} },
    });
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it("succeeds, with Slurm job ids, a model from step1 and metrics from both evals", () => {
    expect(slurm.status).toBe("succeeded");
    for (const step of ["step1", "step2", "step3"]) expect(slurm.steps[step]?.jobId).toMatch(/^\d+$/);
    expect(slurm.models).toHaveLength(1);
    expect(slurm.models[0]!.path.startsWith(env.jobDir)).toBe(true);
    expect(Object.keys(slurm.metrics).sort()).toEqual(["step2", "step3"]);
    expect(slurm.simulated).toBe(true);
  });

  it("submits the evals only after the compression ended", async () => {
    // Slurm reports start times in whole seconds, so order is checked on the journal: each eval's
    // attempt is planned (and submitted) after step1's attempt finished.
    const journal = (await readFile(join(home, "runs", slurm.runId, "journal.jsonl"), "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; step?: string; status?: string });
    const step1Done = journal.findIndex((e) => e.type === "attempt-finished" && e.step === "step1" && e.status === "succeeded");
    expect(step1Done).toBeGreaterThan(0);
    for (const step of ["step2", "step3"]) {
      expect(journal.findIndex((e) => e.type === "attempt-planned" && e.step === step)).toBeGreaterThan(step1Done);
      expect(slurm.steps[step]!.queuedAt!).toBeGreaterThanOrEqual(slurm.steps["step1"]!.endedAt!);
    }
    const starts = events.filter((e) => e.type === "step:start").map((e) => (e as { step: string }).step);
    expect(starts[0]).toBe("step1");
  });

  it("resolves the store model id to the model's path on the cluster for the evals", async () => {
    const journal = (await readFile(join(home, "runs", slurm.runId, "journal.jsonl"), "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; step?: string; argv?: string[] });
    const evalArgv = journal.find((e) => e.type === "attempt-planned" && e.step === "step2")!.argv!;
    expect(evalArgv[evalArgv.indexOf("--model") + 1]).toBe(slurm.models[0]!.path);
  });

  it("gives each job a GPU of its own (CUDA_VISIBLE_DEVICES set by Slurm's gres)", async () => {
    for (const step of ["step1", "step2", "step3"]) {
      const log = await readFile(join(slurm.steps[step]!.attemptDir!, "stdout.log"), "utf8");
      expect(log).toMatch(/^\[SIMULATED\] CUDA_VISIBLE_DEVICES=\d$/m);
    }
  });

  it("has the same result shape as the local run", () => {
    const shape = (r: RunResult) => ({
      status: r.status,
      steps: Object.fromEntries(
        Object.entries(r.steps).map(([k, s]) => [
          k,
          {
            status: s.status,
            attempts: s.attempts,
            queue: s.queue,
            outputs: s.outputs ? { models: s.outputs.models.length, artifacts: s.outputs.artifacts.map((a) => a.name), metrics: Object.keys(s.outputs.metrics) } : undefined,
          },
        ]),
      ),
      models: r.models.map((m) => m.name),
      metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, m]) => [k, Object.keys(m)])),
    });
    expect(shape(slurm)).toEqual(shape(local));
  });
});

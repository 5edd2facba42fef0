/**
 * A step's time limit and the job environment through the whole path (pipeline → runner →
 * SlurmBackend → sbatch) on the real Slurm over SSH: a 3 s step limit on a queue whose own
 * limit is 4 h fails the step at about 3 s with the time-limit reason (it used to get the
 * queue's 4 h and succeed), and every job sees which run, step and attempt it is.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ClusterConfig, FileStore, Pipeline, Task } from "../../src/index.js";
import { pipelineClusterConfig, slurmTestEnv } from "./slurm-test-env.js";

const env = slurmTestEnv();

function cluster(): ClusterConfig {
  const config = pipelineClusterConfig(env);
  if (config.executor !== "slurm") throw new Error("expected a slurm config");
  return { ...config, queues: { ...config.queues, long: { partition: env.partitions.cpu, cpus: 1, nodes: 1, time: 4 * 3600, extraSbatch: [] } } };
}

describe("time limit and job environment, pipeline to Slurm", () => {
  const homes: string[] = [];
  afterAll(() => Promise.all(homes.map((h) => rm(h, { recursive: true, force: true }))));

  it("a 3 s step limit on a 4 h queue fails the step with the time-limit reason; the env names run, step and attempt", async () => {
    const home = await mkdtemp(join(tmpdir(), "gd-limits-"));
    homes.push(home);
    const store = new FileStore({ home });
    const sleeper = new Task({ projectName: "p", taskName: "sleeper", command: ["sh", "-c", "echo started; sleep 60; echo not-reached"] });
    const env = new Task({ projectName: "p", taskName: "env", command: ["sh", "-c", 'echo "$GPU_DAG_RUN_ID $GPU_DAG_STEP $GPU_DAG_ATTEMPT"'] });
    await sleeper.createTask({ store });
    await env.createTask({ store });
    const pipeline = new Pipeline({ projectName: "p", pipelineName: "limits" });
    pipeline.addStep({ name: "slow", baseTaskId: sleeper.id!, executionQueue: "long", timeLimit: "3s" });
    pipeline.addStep({ name: "who", baseTaskId: env.id!, executionQueue: "long" });
    const started = Date.now();
    const result = await pipeline.executeLocally({ home, cluster: cluster() });
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(result.steps["slow"]).toMatchObject({ status: "failed", attempts: 1, infrastructure: false });
    expect(result.steps["slow"]!.reason).toMatch(/^time limit of 3s exceeded/);
    expect(result.steps["who"]!.status).toBe("succeeded");
    const out = await readFile(join(result.steps["who"]!.attemptDir!, "stdout.log"), "utf8");
    expect(out.trim()).toBe(`${result.runId} who 1`);
  });
});

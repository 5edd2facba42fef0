/**
 * Outputs manifest paths on the real Slurm (over sshd): the attempt directory the job saw is
 * `<jobDir>/<run>/<step>/a<attempt>`, not the local attempt directory the manifest is collected
 * into. A path inside it (relative or absolute) is recorded; one that escapes it, or is missing,
 * fails the step naming the collected manifest and the job's directory.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileStore, Pipeline, Task } from "../../src/index.js";
import { pipelineClusterConfig, slurmTestEnv } from "./slurm-test-env.js";

const env = slurmTestEnv();

describe("outputs manifest paths on Slurm", () => {
  const homes: string[] = [];
  afterAll(async () => {
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });

  it("paths inside the job's attempt directory are recorded; ../.. and missing ones fail the step", { timeout: 180_000 }, async () => {
    const home = await mkdtemp(join(tmpdir(), "gd-manifest-paths-slurm-"));
    homes.push(home);
    const store = new FileStore({ home });
    const write = 'mkdir -p "$GPU_DAG_OUTPUT_DIR/model"; printf "%s" "$1" | sed "s#@DIR@#$GPU_DAG_OUTPUT_DIR#g" > "$GPU_DAG_OUTPUT_DIR/outputs.json"';
    const manifests = {
      inside: '{"models":[{"name":"rel","path":"model"},{"name":"abs","path":"@DIR@/model"}]}',
      escape: '{"models":[{"name":"m","path":"../../.."}]}',
      missing: '{"artifacts":[{"name":"a","path":"never-written.json"}]}',
    };
    const pipeline = new Pipeline({ projectName: "slurm", pipelineName: "manifest-paths" });
    for (const [name, json] of Object.entries(manifests)) {
      const task = new Task({ projectName: "slurm", taskName: name, command: ["sh", "-c", write, "job", "{json}"], parameters: { json } });
      await task.createTask({ store });
      pipeline.addStep({ name, baseTaskId: task.id!, executionQueue: "cpu" });
    }
    const config = pipelineClusterConfig(env);
    const cluster = { ...config, queues: { ...config.queues, cpu: { partition: env.partitions.cpu, cpus: 1, nodes: 1, extraSbatch: [] } } };
    const result = await pipeline.executeLocally({ home, cluster });
    expect(result.status).toBe("failed");
    const jobDir = (step: string) => join(env.jobDir, result.runId, step, "a1");
    const manifest = (step: string) => join(result.steps[step]!.attemptDir!, "outputs.json");

    expect(result.steps["inside"]!.status, result.steps["inside"]!.reason).toBe("succeeded");
    expect(result.steps["inside"]!.outputs!.models.map((m) => m.path)).toEqual([join(jobDir("inside"), "model"), join(jobDir("inside"), "model")]);
    expect(result.steps["escape"]!.reason).toBe(`outputs manifest ${manifest("escape")}: models.0.path "../../.." is outside the attempt directory ${jobDir("escape")}`);
    expect(result.steps["missing"]!.reason).toBe(`outputs manifest ${manifest("missing")}: artifacts.0.path "never-written.json" does not exist (attempt directory ${jobDir("missing")})`);
  });
});

/**
 * One job of a batch refused by the real sbatch (a node name Slurm does not know) fails its own
 * step, with sbatch's message and its own name; the other steps of the same batch (all roots,
 * so submitted together) run on Slurm and succeed.
 */
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../src/api/pipeline.js";
import { FileStore } from "../../src/store/file-store.js";
import { Task } from "../../src/tasks/custom-task.js";
import { tempDir } from "../unit/helpers.js";
import { pipelineClusterConfig, slurmTestEnv } from "./slurm-test-env.js";

const env = slurmTestEnv();

describe("a batch with one job sbatch refuses, on the real Slurm", () => {
  it("fails only that step, under its own name, with sbatch's reason", { timeout: 180_000 }, async () => {
    const base = pipelineClusterConfig(env);
    if (base.executor !== "slurm") throw new Error("expected a slurm config");
    const cluster = {
      ...base,
      queues: {
        ...base.queues,
        cpu: { partition: env.partitions.cpu, cpus: 1, nodes: 1, extraSbatch: [] },
        elsewhere: { partition: env.partitions.cpu, cpus: 1, nodes: 1, extraSbatch: ["--nodelist=no-such-node-xyz"] },
      },
    };
    const home = await tempDir("gpu-dag-slurm-refusal-");
    const store = new FileStore({ home });
    const task = new Task({ projectName: "refusal", taskName: "ok", command: ["sh", "-c", 'echo "{}" > "$GPU_DAG_OUTPUT_DIR/outputs.json"'] });
    await task.createTask({ store });
    const pipeline = new Pipeline({ projectName: "refusal", pipelineName: "batch" })
      .addStep({ name: "first", baseTaskId: task.id!, executionQueue: "cpu" })
      .addStep({ name: "refused", baseTaskId: task.id!, executionQueue: "elsewhere" })
      .addStep({ name: "third", baseTaskId: task.id!, executionQueue: "cpu" });
    const result = await pipeline.executeLocally({ store, home, cluster, retryBackoffMs: 10 });
    await store.close();
    expect(result.steps["refused"]).toMatchObject({ status: "failed" });
    expect(result.steps["refused"]!.reason).toContain(`sbatch refused step "refused"`);
    expect(result.steps["refused"]!.reason).toMatch(/Invalid node name specified/);
    for (const name of ["first", "third"]) expect(result.steps[name], `${name}: ${result.steps[name]!.reason}`).toMatchObject({ status: "succeeded" });
  });
});

/**
 * What the cluster can never give is refused before the first job, on the real test Slurm (one
 * node: 4 GPUs, 8 CPUs): a step below a root asking for 8 GPUs, one asking for 64 CPUs and one on
 * a partition that does not exist. The run is refused with every such step named, nothing is
 * submitted (not even the root), and `status` says why.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ClusterConfig, FileStore, Pipeline, PipelineValidationError, Task } from "../../src/index.js";
import { pipelineClusterConfig, slurmTestEnv } from "./slurm-test-env.js";

const env = slurmTestEnv();

function cluster(): ClusterConfig {
  const config = pipelineClusterConfig(env);
  if (config.executor !== "slurm") throw new Error("expected a slurm config");
  return {
    ...config,
    queues: {
      ...config.queues,
      a100x8: { partition: env.partitions.gpuA100, gpus: 8, cpus: 1, nodes: 1, extraSbatch: [] },
      wide: { partition: env.partitions.cpu, cpus: 64, nodes: 1, extraSbatch: [] },
      nowhere: { partition: "no-such-partition", cpus: 1, nodes: 1, extraSbatch: [] },
    },
  };
}

describe("resources the cluster can never give", () => {
  const homes: string[] = [];
  afterAll(() => Promise.all(homes.map((h) => rm(h, { recursive: true, force: true }))));

  it("are refused before the first job, every such step named; nothing is submitted; status says why", async () => {
    const home = await mkdtemp(join(tmpdir(), "gd-capacity-"));
    homes.push(home);
    const store = new FileStore({ home });
    const task = new Task({ projectName: "p", taskName: "noop", command: ["true"] });
    await task.createTask({ store });
    const pipeline = new Pipeline({ projectName: "p", pipelineName: "capacity" })
      .addStep({ name: "root", baseTaskId: task.id!, executionQueue: "services" })
      .addStep({ name: "big", baseTaskId: task.id!, parents: ["root"], executionQueue: "a100x8" })
      .addStep({ name: "wide", baseTaskId: task.id!, parents: ["root"], executionQueue: "wide" })
      .addStep({ name: "lost", baseTaskId: task.id!, parents: ["root"], executionQueue: "nowhere" });
    const runId = `cap-${Date.now().toString(36)}`;
    const error = await pipeline.executeLocally({ store, home, cluster: cluster(), runId }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PipelineValidationError);
    const message = (error as Error).message;
    expect(message).toContain(`step "big", executionQueue: queue "a100x8" (partition "${env.partitions.gpuA100}") asks for 8 GPUs per node, its largest node has 4: the job could never start`);
    expect(message).toContain(`step "wide", executionQueue: queue "wide" (partition "${env.partitions.cpu}") asks for 64 CPUs per task, its largest node has 8`);
    expect(message).toContain(`step "lost", executionQueue: queue "nowhere" (partition "no-such-partition"): the cluster has no partition "no-such-partition"`);
    expect(message).not.toContain(`step "root"`);
    // Not even the root step reached Slurm.
    const names = execFileSync("squeue", ["-h", "-t", "all", "-o", "%j"], { encoding: "utf8" });
    expect(names).not.toContain(`gd-${runId}-`);
    const journal = await store.readJournal(runId);
    expect(journal.map((e) => e.type)).toEqual(["run-started", "run-finished"]);
    expect(journal.at(-1)).toMatchObject({ status: "failed", reason: expect.stringContaining("could never start") });
    await store.close();
  });
});

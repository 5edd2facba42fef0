/** Parsing `sinfo` and checking requests against partitions (the real `sinfo` is in the slurm tier). */
import { describe, expect, it } from "vitest";
import { capacityProblems, gpusOf, memMiB, parseSinfo } from "../../../../src/backends/slurm/partition-capacity.js";

const SINFO = ["cpu*|(null)|64|256000", "cpu*|(null)|32|128000", "a100|gpu:a100:8(S:0-1)|64|512000", "mixed|gpu:a100:2,gpu:h100:2,shard:8|16|64000", ""].join("\n");

describe("partition capacity", () => {
  it("parses sinfo: node count, largest node, the default partition", () => {
    const { partitions, defaultPartition } = parseSinfo(SINFO);
    expect(defaultPartition).toBe("cpu");
    expect(partitions.get("cpu")).toEqual({ nodes: 2, gpusPerNode: 0, cpusPerNode: 64, memMiBPerNode: 256000 });
    expect(partitions.get("a100")).toEqual({ nodes: 1, gpusPerNode: 8, cpusPerNode: 64, memMiBPerNode: 512000 });
    expect(partitions.get("mixed")?.gpusPerNode).toBe(4);
  });

  it("counts GPUs in gres and memory in MiB", () => {
    expect(gpusOf("gpu:4")).toBe(4);
    expect(gpusOf("(null)")).toBe(0);
    expect(gpusOf("gpu:a100:2,gpu:h100:2,shard:8")).toBe(4);
    expect(memMiB("16G")).toBe(16384);
    expect(memMiB("512M")).toBe(512);
    expect(memMiB("64000")).toBe(64000);
    expect(memMiB("1T")).toBe(1024 * 1024);
  });

  it("names what a partition can never give, and nothing it can", () => {
    const config = {
      partition: undefined,
      queues: { big: { partition: "a100", gpus: 9, nodes: 1, extraSbatch: [] }, ok: { partition: "a100", gpus: 8, nodes: 1, extraSbatch: [] }, none: { partition: "gone", nodes: 1, extraSbatch: [] } },
    };
    const problems = capacityProblems(config, parseSinfo(SINFO), [
      { step: "ok", queue: "ok", resources: { gpus: 8, nodes: 1, cpus: 64, mem: "500G" } },
      { step: "big", queue: "big", resources: { gpus: 9, nodes: 2, cpus: 65, mem: "600G" } },
      { step: "none", queue: "none", resources: { gpus: 0, nodes: 1 } },
      { step: "default", queue: "unlisted", resources: { gpus: 0, nodes: 3 } },
    ]);
    expect(problems).toEqual([
      {
        step: "big",
        message:
          'queue "big" (partition "a100") asks for 9 GPUs per node, its largest node has 8; 2 nodes, it has 1; 65 CPUs per task, its largest node has 64; 600G of memory, its largest node has 512000M: the job could never start',
      },
      { step: "none", message: 'queue "none" (partition "gone"): the cluster has no partition "gone" (partitions: cpu, a100, mixed)' },
      { step: "default", message: 'queue "unlisted" (partition "cpu") asks for 3 nodes, it has 2: the job could never start' },
    ]);
  });
});

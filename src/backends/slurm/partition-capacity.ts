/**
 * What each Slurm partition can ever give one job, read with one `sinfo` call, and the requests
 * it can never satisfy: a partition that does not exist, more GPUs or CPUs or memory per node
 * than its largest node has, more nodes than it has. Slurm would accept such a job and leave it
 * pending for ever (or refuse it only after its parents ran for hours), so the run refuses it
 * before the first job.
 *
 * @module
 */
import { shellQuote } from "../../args/shell-quote.js";
import type { ResourceProblem, ResourceRequest } from "../queue-backend.js";
import type { SlurmJobConfig } from "./resolve-job.js";
import type { Transport } from "./transport.js";

/** The largest node of a partition, and how many nodes it has. */
export interface PartitionCapacity {
  nodes: number;
  gpusPerNode: number;
  cpusPerNode: number;
  /** Memory of the largest node in MiB (`sinfo %m`). */
  memMiBPerNode: number;
}

/** The `sinfo` format this module parses: partition (`*` marks the default), gres, CPUs, memory. */
export const SINFO_COMMAND = `sinfo -h -N -o ${shellQuote("%P|%G|%c|%m")}`;

/** Parses {@link SINFO_COMMAND} output (one line per node and partition). */
export function parseSinfo(text: string): { partitions: Map<string, PartitionCapacity>; defaultPartition: string | undefined } {
  const partitions = new Map<string, PartitionCapacity>();
  let defaultPartition: string | undefined;
  for (const line of text.split("\n")) {
    const [rawName, gres = "", cpus = "0", mem = "0"] = line.trim().split("|");
    if (!rawName) continue;
    const name = rawName.replace(/\*$/, "");
    if (rawName.endsWith("*")) defaultPartition = name;
    const known = partitions.get(name) ?? { nodes: 0, gpusPerNode: 0, cpusPerNode: 0, memMiBPerNode: 0 };
    partitions.set(name, {
      nodes: known.nodes + 1,
      gpusPerNode: Math.max(known.gpusPerNode, gpusOf(gres)),
      cpusPerNode: Math.max(known.cpusPerNode, Number.parseInt(cpus, 10) || 0),
      memMiBPerNode: Math.max(known.memMiBPerNode, Number.parseInt(mem, 10) || 0),
    });
  }
  return { partitions, defaultPartition };
}

/** GPUs in a node's gres: `gpu:4`, `gpu:a100:4(S:0-1)`, `gpu:a100:2,gpu:h100:2,shard:8` → 4. */
export function gpusOf(gres: string): number {
  let total = 0;
  for (const part of gres.split(",")) {
    const match = /^gpu(?::[^:(]+)?:(\d+)/.exec(part.trim());
    if (match) total += Number(match[1]);
  }
  return total;
}

/** `16G`, `512M`, `64000` (MiB), `1T` → MiB. */
export function memMiB(mem: string): number {
  const match = /^(\d+)([KMGT]?)$/i.exec(mem.trim());
  if (!match) return 0;
  const scale: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024, "": 1 };
  return Number(match[1]) * (scale[match[2]!.toUpperCase()] ?? 1);
}

/** The problems of `requests` against the partitions `sinfo` reports. */
export function capacityProblems(config: Pick<SlurmJobConfig, "partition" | "queues">, sinfo: ReturnType<typeof parseSinfo>, requests: readonly ResourceRequest[]): ResourceProblem[] {
  const problems: ResourceProblem[] = [];
  for (const { step, queue, resources } of requests) {
    const name = config.queues[queue]?.partition ?? config.partition ?? sinfo.defaultPartition;
    if (name === undefined) continue; // no partition named and no default: sbatch says why
    const capacity = sinfo.partitions.get(name);
    const where = `queue "${queue}" (partition "${name}")`;
    if (!capacity) {
      problems.push({ step, message: `${where}: the cluster has no partition "${name}" (partitions: ${[...sinfo.partitions.keys()].join(", ") || "none"})` });
      continue;
    }
    const over: string[] = [];
    if (resources.gpus > capacity.gpusPerNode) over.push(`${resources.gpus} GPUs per node, its largest node has ${capacity.gpusPerNode}`);
    if (resources.nodes > capacity.nodes) over.push(`${resources.nodes} nodes, it has ${capacity.nodes}`);
    if (resources.cpus !== undefined && resources.cpus > capacity.cpusPerNode) over.push(`${resources.cpus} CPUs per task, its largest node has ${capacity.cpusPerNode}`);
    if (resources.mem !== undefined && capacity.memMiBPerNode > 0 && memMiB(resources.mem) > capacity.memMiBPerNode) {
      over.push(`${resources.mem} of memory, its largest node has ${capacity.memMiBPerNode}M`);
    }
    if (over.length > 0) problems.push({ step, message: `${where} asks for ${over.join("; ")}: the job could never start` });
  }
  return problems;
}

/** Reads the partitions over `transport` and checks `requests`; `[]` when `sinfo` cannot be read (the run then finds out as before). */
export async function checkPartitionCapacity(transport: Transport, config: Pick<SlurmJobConfig, "partition" | "queues">, requests: readonly ResourceRequest[]): Promise<ResourceProblem[]> {
  if (requests.length === 0) return [];
  const result = await transport.exec(SINFO_COMMAND, { idempotent: true }).catch(() => undefined);
  if (result?.code !== 0 || result.stdout.trim() === "") return [];
  return capacityProblems(config, parseSinfo(result.stdout), requests);
}

/**
 * Queue name → resources, for a given cluster config.
 *
 * @module
 */
import { didYouMean } from "../args/did-you-mean.js";
import type { JobResources } from "../backends/queue-backend.js";
import type { ClusterConfig, QueueConfig } from "./cluster-config.js";

/** A queue resolved against a cluster config. */
export interface ResolvedQueue {
  name: string;
  config: QueueConfig;
  resources: JobResources;
}

/** The GPU count a queue name implies by its trailing `xN` (`oneshot-a100x1` → 1), else 0. */
export function gpusFromQueueName(name: string): number {
  const match = /x(\d+)$/.exec(name);
  return match ? Number(match[1]) : 0;
}

/**
 * Resolves a queue, or returns an error message (with a "did you mean") when the config does not
 * know it.
 */
export function resolveQueue(config: ClusterConfig, name: string): ResolvedQueue | { error: string } {
  const configured = config.queues[name];
  if (configured) return { name, config: configured, resources: resourcesOf(config, configured) };
  if (config.executor === "local" && config.anyQueue) {
    const implied: QueueConfig = { nodes: 1, extraSbatch: [], gpus: gpusFromQueueName(name) };
    return { name, config: implied, resources: resourcesOf(config, implied) };
  }
  const known = Object.keys(config.queues);
  const hint = didYouMean(name, known);
  return {
    error: `unknown queue "${name}"${hint ? ` (did you mean "${hint}"?)` : ""}; known queues: ${known.join(", ") || "(none)"}`,
  };
}

/**
 * The final resources of a step's job: its queue's, with the time limit narrowed to the step's
 * own `timeLimit` when that is shorter. The one place this is decided (runner, resume and dry run
 * all call it); backends take the result as final.
 */
export function stepResources(queue: Pick<ResolvedQueue, "resources">, stepTimeLimitSeconds: number | undefined): JobResources {
  const queueLimit = queue.resources.timeLimitSeconds;
  const limit = queueLimit === undefined ? stepTimeLimitSeconds : stepTimeLimitSeconds === undefined ? queueLimit : Math.min(queueLimit, stepTimeLimitSeconds);
  return { ...queue.resources, ...(limit !== undefined ? { timeLimitSeconds: limit } : {}) };
}

function resourcesOf(config: ClusterConfig, queue: QueueConfig): JobResources {
  const gpus = queue.gpus ?? gpusFromGres(queue.gres) ?? 0;
  const time = queue.time ?? (config.executor === "slurm" ? (config.timeouts[queue.partition ?? config.partition ?? ""] ?? config.timeouts["default"]) : undefined);
  return {
    gpus,
    nodes: queue.nodes,
    ...(queue.cpus !== undefined ? { cpus: queue.cpus } : {}),
    ...(queue.mem !== undefined ? { mem: queue.mem } : {}),
    ...(time !== undefined ? { timeLimitSeconds: time } : {}),
  };
}

function gpusFromGres(gres: string | undefined): number | undefined {
  const match = gres ? /^gpu(?::[^:]+)?:(\d+)$/.exec(gres) : null;
  return match ? Number(match[1]) : undefined;
}

/**
 * `gpu-dag queues` (a cluster config's queues and what they map to) and `gpu-dag config-schema`
 * (the JSON Schema of cluster configs).
 *
 * @module
 */
import { ExitCode } from "../cli-error.js";
import { type CliContext, out, printJson } from "../context.js";
import { formatDuration, formatTable } from "../format.js";

/** `gpu-dag queues`. */
export async function queuesCommand(_context: CliContext, options: { cluster?: string; configDir?: string; json?: boolean }): Promise<number> {
  const { loadClusterConfig } = await import("../../config/load-cluster-config.js");
  const { resolveQueue } = await import("../../config/resolve-queue.js");
  const { name, source, config } = await loadClusterConfig(options.cluster ?? "local", options.configDir ? { configDir: options.configDir } : {});
  const queues = Object.keys(config.queues)
    .sort()
    .map((queue) => {
      const resolved = resolveQueue(config, queue);
      const q = config.queues[queue]!;
      const resources = "error" in resolved ? undefined : resolved.resources;
      const partition = q.partition ?? (config.executor === "slurm" ? config.partition : undefined);
      return {
        queue,
        executor: config.executor,
        ...(partition !== undefined ? { partition } : {}),
        gpus: resources?.gpus ?? 0,
        ...(q.gres !== undefined ? { gres: q.gres } : {}),
        nodes: resources?.nodes ?? q.nodes,
        ...(resources?.cpus !== undefined ? { cpus: resources.cpus } : {}),
        ...(resources?.mem !== undefined ? { mem: resources.mem } : {}),
        ...(resources?.timeLimitSeconds !== undefined ? { timeLimitSeconds: resources.timeLimitSeconds } : {}),
        ...(q.container !== undefined ? { container: q.container } : {}),
      };
    });
  const anyQueue = config.executor === "local" && config.anyQueue;
  const servicesQueue = config.executor === "slurm" ? config.servicesQueue : undefined;
  if (options.json) {
    printJson({
      cluster: name,
      source,
      executor: config.executor,
      anyQueue,
      ...(servicesQueue ? { servicesQueue } : {}),
      ...(config.executor === "local" && config.gpus !== undefined ? { gpus: config.gpus } : {}),
      queues,
    });
    return ExitCode.Ok;
  }
  out(`cluster "${name}" (${source}), executor ${config.executor}\n`);
  if (queues.length > 0) {
    out(
      formatTable(
        ["QUEUE", "EXECUTOR", "PARTITION", "GPUS", "NODES", "CPUS", "MEM", "TIME"],
        queues.map((q) => [
          q.queue,
          q.executor,
          q.partition ?? "-",
          q.gres ?? String(q.gpus),
          String(q.nodes),
          q.cpus === undefined ? "-" : String(q.cpus),
          q.mem ?? "-",
          q.timeLimitSeconds === undefined ? "-" : formatDuration(q.timeLimitSeconds * 1000),
        ]),
      ),
    );
  } else out("no queues configured\n");
  if (anyQueue) out('any other queue name is accepted here: a trailing "xN" (oneshot-a100x1) asks for N GPUs, anything else for none\n');
  return ExitCode.Ok;
}

/** `gpu-dag config-schema`. */
export async function configSchemaCommand(): Promise<number> {
  const { clusterConfigJsonSchema } = await import("../../config/cluster-config.js");
  printJson(clusterConfigJsonSchema());
  return ExitCode.Ok;
}

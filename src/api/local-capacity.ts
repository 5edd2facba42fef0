/**
 * What this machine's local pool can ever give, checked while planning: a step whose queue asks
 * for more GPUs than the pool has would wait for ever (or fail hours in, after its parents ran),
 * so it is a planning problem, reported before the first job.
 *
 * @module
 */
import { detectGpus } from "../backends/local/gpu-pool.js";
import type { JobResources } from "../backends/queue-backend.js";
import type { LocalClusterConfig } from "../config/cluster-config.js";

/** Returns a checker of queue resources against the pool of `config` (GPUs detected once, when first needed). */
export function localCapacityCheck(config: LocalClusterConfig, env: NodeJS.ProcessEnv = process.env): (queue: string, resources: JobResources) => string | undefined {
  let pool: { size: number; source: string } | undefined;
  const poolOf = () =>
    (pool ??=
      config.gpus !== undefined
        ? { size: config.gpus, source: "gpus in the local cluster config" }
        : {
            size: detectGpus(env).length,
            source: env["CUDA_VISIBLE_DEVICES"] !== undefined ? "detected from CUDA_VISIBLE_DEVICES" : "CUDA_VISIBLE_DEVICES is unset; counted with nvidia-smi -L, none if it is missing",
          });
  return (queue, resources) => {
    const wanted = resources.gpus * resources.nodes;
    if (wanted === 0) return undefined;
    const { size, source } = poolOf();
    if (wanted <= size) return undefined;
    return (
      `queue "${queue}" asks for ${wanted} GPU${wanted === 1 ? "" : "s"} but this machine's pool has ${size} (${source}); ` +
      `set gpus in the local cluster config, choose a queue with fewer GPUs, or run on a Slurm cluster`
    );
  };
}

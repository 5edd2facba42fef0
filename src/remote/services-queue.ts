/**
 * Whether a Slurm cluster can take a run's controller as a job: it needs the services queue.
 *
 * @module
 */
import type { SlurmClusterConfig } from "../config/cluster-config.js";
import { resolveQueue } from "../config/resolve-queue.js";
import { ConfigError } from "../errors.js";

/**
 * Throws a {@link ConfigError} when the cluster cannot take a controller job: its config has no
 * services queue. Checked before a run meant for a cluster-side controller is even recorded.
 */
export function assertServicesQueue(config: SlurmClusterConfig, where: string, file?: string): void {
  const services = resolveQueue(config, config.servicesQueue);
  if ("error" in services) {
    throw new ConfigError(
      `cluster config ${where} cannot take a controller: executeRemotely() / run --remote / resume --remote on Slurm submit the controller as a job on the services queue "${config.servicesQueue}" (servicesQueue), and it has none (${services.error}). Add a queue "${config.servicesQueue}" on a CPU partition, or point servicesQueue at one; nothing was submitted`,
      { field: "servicesQueue", ...(file !== undefined ? { file } : {}) },
    );
  }
}

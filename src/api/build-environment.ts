/**
 * Cluster config → {@link ExecutionEnvironment}: the backend (local process pool, or Slurm), queue
 * resolution, the Python interpreter, secrets.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { LocalBackend } from "../backends/local/local-backend.js";
import type { QueueBackend } from "../backends/queue-backend.js";
import type { ClusterConfig } from "../config/cluster-config.js";
import { resolveQueue } from "../config/resolve-queue.js";
import { ConfigError } from "../errors.js";
import { pythonRuntimeDir } from "../package-root.js";
import type { ExecutionEnvironment } from "../runner/environment.js";
import { defaultStoreHome } from "../store/file-store.js";

/** Options of {@link buildEnvironment}. */
export interface BuildEnvironmentOptions {
  /** Use this backend instead of building one from the config (tests, custom backends). */
  backend?: QueueBackend;
  /** Store directory, to find the default venv (`<home>/venv`). */
  home?: string;
  env?: NodeJS.ProcessEnv;
}

/** Builds the environment for `config`. The caller closes `environment.backend`. */
export async function buildEnvironment(clusterName: string, config: ClusterConfig, options: BuildEnvironmentOptions = {}): Promise<ExecutionEnvironment> {
  const processEnv = options.env ?? process.env;
  const backend = options.backend ?? (await makeBackend(config));
  const venvPython = join(options.home ?? defaultStoreHome(processEnv), "venv", "bin", "python");
  const defaultPython = config.python ?? (config.executor === "local" && existsSync(venvPython) ? venvPython : "python3");
  return {
    clusterName,
    backend,
    resolveQueue: (name) => resolveQueue(config, name),
    python: (queue) => queue.config.python ?? defaultPython,
    env: config.env,
    secrets: (names) => {
      const wanted = [...new Set([...config.requiredEnv, ...names])];
      const missing = wanted.filter((n) => processEnv[n] === undefined);
      if (missing.length > 0) {
        // Say where each name was asked for: the cluster config's requiredEnv, or a task's secretEnv.
        const fromConfig = missing.filter((n) => config.requiredEnv.includes(n));
        const fromTasks = missing.filter((n) => !config.requiredEnv.includes(n));
        const where = [
          fromConfig.length > 0 ? `${fromConfig.join(", ")} (requiredEnv of cluster config "${clusterName}")` : "",
          fromTasks.length > 0 ? `${fromTasks.join(", ")} (secretEnv of a task)` : "",
        ].filter(Boolean);
        throw new ConfigError(`required environment variable(s) not set where the controller runs: ${where.join("; ")}`, {
          field: fromConfig.length > 0 ? "requiredEnv" : "secretEnv",
        });
      }
      return Object.fromEntries(wanted.map((n) => [n, processEnv[n]!]));
    },
  };
}

async function makeBackend(config: ClusterConfig): Promise<QueueBackend> {
  if (config.executor === "local") {
    return new LocalBackend({
      ...(config.gpus !== undefined ? { gpus: config.gpus } : {}),
      ...(config.maxParallel !== undefined ? { maxParallel: config.maxParallel } : {}),
      ...(config.leaseDir !== undefined ? { leaseDir: config.leaseDir } : {}),
      pythonPath: pythonRuntimeDir(),
    });
  }
  // Loaded lazily: only Slurm users pay for node-ssh.
  const { SlurmBackend } = await import("../backends/slurm/slurm-backend.js");
  return new SlurmBackend({ config, pythonRuntimeDir: pythonRuntimeDir() });
}

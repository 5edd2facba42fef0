/**
 * What the runner needs from the outside world, as one object: the backend for the cluster, queue
 * resolution, the Python interpreter to use, and secrets. The API layer builds it from a cluster
 * config; tests may build their own.
 *
 * @module
 */
import type { QueueBackend } from "../backends/queue-backend.js";
import type { ResolvedQueue } from "../config/resolve-queue.js";

/** See the module comment. */
export interface ExecutionEnvironment {
  /** Name of the cluster config (recorded with models: their paths live there). */
  clusterName: string;
  backend: QueueBackend;
  resolveQueue(name: string): ResolvedQueue | { error: string };
  /** Interpreter for job-side Python runners of a queue. */
  python(queue: ResolvedQueue): string;
  /** Environment every job gets (not secret). */
  env: Readonly<Record<string, string>>;
  /**
   * Secret values for a job, read from the controller's environment: the cluster's `requiredEnv`
   * plus the task's `secretEnv` names. Throws when a required one is unset.
   */
  secrets(names: readonly string[]): Record<string, string>;
}

/**
 * The options of a local backend.
 *
 * @module
 */

/** Options of `LocalBackend`. */
export interface LocalBackendOptions {
  /** GPU ids in the pool (default: detected). A number means ids `0..n-1`. */
  gpus?: readonly string[] | number;
  /** Most jobs running at once (default: unlimited; GPUs still bound GPU jobs). */
  maxParallel?: number;
  /** Directory put first on PYTHONPATH so `gpu_dag_runtime` imports (the package's `python/`). */
  pythonPath?: string;
  /** Seconds between SIGTERM and SIGKILL when cancelling (default 5). */
  killGraceSeconds?: number;
  /**
   * The machine-wide GPU lease directory (default: `$GPU_DAG_LEASE_DIR`, else
   * `/tmp/gpu-dag-leases`). Every controller on the machine must use the same one.
   */
  leaseDir?: string;
  /**
   * How jobs are started: `"spawner"` (the default where a `python3` is on `PATH`): by a small
   * helper process (spawner.ts), so starting a job costs the same however large this process
   * grows; jobs get this process's environment as it was when the backend was made, plus their
   * own. `"direct"`: forked from this process (its environment at each start). Also set by
   * `GPU_DAG_SPAWNER=direct|spawner`; this option wins.
   */
  spawner?: "spawner" | "direct";
}

/** The environment variable that picks {@link LocalBackendOptions.spawner}. */
export const SPAWNER_ENV = "GPU_DAG_SPAWNER";

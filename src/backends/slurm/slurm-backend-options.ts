/**
 * The options and counters of the Slurm backend (`slurm-backend.ts`).
 *
 * @module
 */
import type { SlurmClusterConfig } from "../../config/cluster-config.js";
import type { PollIntervals } from "./poll-loop.js";
import type { SlurmJobConfig } from "./resolve-job.js";
import type { Transport } from "./transport.js";

/** Counters of remote work, for benchmarks and tests. */
export interface SlurmBackendStats {
  /** Remote execs (round trips that ran a command). */
  execs: number;
  /** `sbatch` invocations (one per single job, one per array). */
  sbatch: number;
  /** Of those, arrays. */
  arrays: number;
  /** Poll cycles (each one `squeue` exec, plus `sacct` when needed). */
  pollCycles: number;
  squeue: number;
  sacct: number;
  scancel: number;
  /** Path checks before a run (each one exec for all the run's paths). */
  pathChecks: number;
  /** Uploads of the user's code (once per content, not per run). */
  codeUploads: number;
}

/** Options of {@link SlurmBackend}. */
export interface SlurmBackendOptions {
  /** The Slurm cluster config (only the fields in {@link SlurmJobConfig} and `ssh` are used). */
  config: SlurmJobConfig & Partial<Pick<SlurmClusterConfig, "ssh" | "checkPaths" | "code">>;
  /** Transport to use; default: SSH when `config.ssh` is set, else this machine (login node). */
  transport?: Transport;
  /** Poll interval tuning. */
  pollIntervals?: Partial<PollIntervals>;
  /** Called with errors of background polling (default: ignored; the next cycle retries). */
  onPollError?: (error: unknown) => void;
  /**
   * Local directory of the job-side Python runtime (the package's `python/`). When set, it is
   * shipped to `<jobDir>/.runtime/<hash>` once and put on every job's PYTHONPATH.
   */
  pythonRuntimeDir?: string;
  /**
   * Most elements of one array job, instead of asking the cluster (`MaxArraySize` from
   * `scontrol show config`); below 2, map elements go as single jobs.
   */
  maxArraySize?: number;
}

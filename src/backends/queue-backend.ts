/**
 * The contract every queue backend implements (local process pool, Slurm, …).
 *
 * A backend runs {@link JobSpec}s. The runner never knows how: it submits, listens for state
 * changes, cancels, reads logs, and asks the backend to `collect()` a finished job's files into
 * the attempt directory. Backends own their connections and release them in `close()`.
 *
 * Job state machine (every backend):
 *
 * ```
 *   submit ─▶ queued ─▶ running ─▶ succeeded
 *               │          ├────▶ failed      (job's own failure, or infrastructure: node fail, preempted…)
 *               │          └────▶ cancelled
 *               └────────────────▶ cancelled | failed (never started: dependency never satisfied, …)
 *   any ─▶ lost   (the backend no longer knows the job: e.g. a local pid gone after a controller crash)
 * ```
 *
 * @module
 */
import type { GpuDagError } from "../errors.js";

/**
 * Resources a job asks for: resolved from its queue, then narrowed by the step (the time limit is
 * the smaller of the queue's and the step's). Final: backends take them as they are and never
 * re-read the queue's `gpus`, `cpus`, `mem`, `nodes` or `time`.
 */
export interface JobResources {
  /** GPUs per node the job gets (0 for CPU jobs). */
  gpus: number;
  /** Nodes (1 unless multi-node). */
  nodes: number;
  /** CPU cores per task, when the queue sets it. */
  cpus?: number;
  /** Memory, e.g. `16G`, when the queue sets it. */
  mem?: string;
  /**
   * Wall-clock limit in seconds, when set. Every backend enforces it to the second and reports a
   * job that outlives it as `failed` with the reason `time limit of <N>s exceeded`.
   */
  timeLimitSeconds?: number;
}

/** Everything a backend needs to run one attempt of one step. */
export interface JobSpec {
  /** Deterministic and unique per attempt; see {@link jobNameFor}. */
  jobName: string;
  runId: string;
  step: string;
  attempt: number;
  /** Queue name from the pipeline, e.g. `oneshot-a100x1`. */
  queue: string;
  resources: JobResources;
  /** The command, as an argv array. Never joined without quoting. */
  argv: readonly string[];
  /** Environment for the job (non-secret; may be written to scripts and the store). */
  env: Readonly<Record<string, string>>;
  /**
   * Secret environment (tokens, keys). Reaches the job's environment only; never written to a
   * script, a log or the store.
   */
  secretEnv: Readonly<Record<string, string>>;
  /**
   * Local directory of this attempt. When the job has finished and `collect()` resolved, it
   * holds `stdout.log`, `stderr.log` and the job's `outputs.json`.
   */
  attemptDir: string;
  /** Higher runs first when several jobs wait for the same resources. */
  priority: number;
  /**
   * Set on the elements of a map step (see {@link JobGroup}): a backend that carries groups (Slurm
   * job arrays) may submit the specs of one `submit` call that share `group.key`, `queue` and
   * `resources` as one array job. Each element keeps its own job name, attempt directory, id
   * (`<array>_<index>` on Slurm), state, logs and outputs.
   */
  group?: JobGroup;
  /**
   * Files the job reads, written under its attempt directory as the job sees it (relative path →
   * content) before the job starts: e.g. a map's collection (`elements.json`) for a reducer.
   * Never secret.
   */
  inputFiles?: Readonly<Record<string, string>>;
}

/** The map step a job is an element of; see {@link JobSpec.group}. */
export interface JobGroup {
  /** The same for every element of one map step's round of submissions, e.g. `gen/a1`. */
  key: string;
  /** The map step's name. */
  map: string;
  /** The element's index in the map (0-based, in the order the map lists them). */
  index: number;
  /** Most elements of the map running at once (Slurm's `%K`), when capped. */
  throttle?: number;
}

/** Options of {@link QueueBackend.submit}. */
export interface SubmitOptions {
  signal?: AbortSignal;
  /**
   * Resuming after a controller crash: a job that already exists under the same `jobName`
   * (submitted just before the crash, before its id was journaled) is returned, not submitted again.
   */
  reuseExisting?: boolean;
}

/** A job the backend accepted. */
export interface SubmittedJob {
  jobName: string;
  /** The backend's own id: a local pid-based id, a Slurm job id. Journaled by the runner. */
  backendJobId: string;
  /**
   * The attempt directory as the job sees it (`$GPU_DAG_OUTPUT_DIR`), when it differs from
   * `spec.attemptDir` (e.g. on a cluster's shared filesystem). Relative paths in the outputs
   * manifest are relative to it.
   */
  jobDir?: string;
}

/** Where a job is in its life. A discriminated union on `status`. */
export type JobState =
  | { status: "queued"; reason?: string }
  | { status: "running"; startedAt?: number; node?: string }
  | { status: "succeeded"; exitCode: 0; endedAt?: number }
  | {
      status: "failed";
      /** Exit code, when the job ran to an exit. */
      exitCode: number | null;
      /** Signal that ended it, e.g. `SIGKILL`. */
      signal: string | null;
      /** True when the job did not fail on its own: node failure, preemption, boot failure, lost. */
      infrastructure: boolean;
      reason: string;
      endedAt?: number;
    }
  | { status: "cancelled"; reason: string }
  | { status: "lost"; reason: string };

/**
 * The `reason` of a job that outlived its time limit, the same on every backend:
 * `time limit of 30s exceeded` (backends may add detail in parentheses after it).
 */
export function timeLimitReason(timeLimitSeconds: number | undefined): string {
  return timeLimitSeconds === undefined ? "time limit exceeded" : `time limit of ${timeLimitSeconds}s exceeded`;
}

/** The `status` values of {@link JobState}. */
export type JobStatus = JobState["status"];

/** True for states a job never leaves. */
export function isTerminal(state: JobState): boolean {
  return state.status !== "queued" && state.status !== "running";
}

/** Listener for job state changes. */
export type JobUpdateListener = (backendJobId: string, state: JobState) => void;

/** Options for reading a log tail. */
export interface LogOptions {
  stream?: "stdout" | "stderr";
  /** Bytes from the end (default 64 KiB). */
  tailBytes?: number;
}

/**
 * Something a backend tells the runner about its connection to where jobs run, discriminated on
 * `kind`. `target` names it (`user@host:port`).
 *
 * - `connection-lost`: a connection attempt failed; the backend retries `retryInMs` later
 *   (`attempt` counts attempts since the connection was last up; `firstConnect` when it never was).
 * - `connection-restored`: up again after `downMs` and `attempts` failed attempts.
 * - `connection-refused`: a permanent refusal (host key, authentication): the backend will not
 *   try again, and every call fails with `error`. The runner fails the run at once.
 */
export type BackendNotice =
  | { kind: "connection-lost"; target: string; attempt: number; retryInMs: number; firstConnect: boolean; error: string }
  | { kind: "connection-restored"; target: string; downMs: number; attempts: number }
  | { kind: "connection-refused"; target: string; error: GpuDagError };

/** Listener for {@link BackendNotice}s. */
export type BackendNoticeListener = (notice: BackendNotice) => void;

/** Seconds for a notice: one decimal under 10 s (`0.4 s`, `8.2 s`), whole above (`12 s`). */
function seconds(ms: number): string {
  return ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000));
}

/**
 * A notice as one line of text, as `run` progress, `status` and `watch` show it, e.g.
 * `connection to me@login:22 lost, retrying (attempt 3, next in 8.0 s): ECONNREFUSED`.
 */
export function describeNotice(notice: BackendNotice): string {
  switch (notice.kind) {
    case "connection-lost":
      return `connection to ${notice.target} ${notice.firstConnect ? "failed" : "lost"}, retrying (attempt ${notice.attempt}, next in ${seconds(notice.retryInMs)} s): ${notice.error}`;
    case "connection-restored":
      return `connection to ${notice.target} restored after ${seconds(notice.downMs)} s (${notice.attempts} failed attempt${notice.attempts === 1 ? "" : "s"})`;
    case "connection-refused":
      return notice.error.message;
  }
}

/** One step's demand, for {@link QueueBackend.checkResources}. */
export interface ResourceRequest {
  step: string;
  queue: string;
  resources: JobResources;
}

/** A demand the backend can never meet. */
export interface ResourceProblem {
  step: string;
  message: string;
}

/** One path a step needs where its job runs; see {@link QueueBackend.checkPaths}. */
export interface PathNeed {
  /** Absolute, or `~/…` (the home of the user jobs run as). */
  path: string;
  /** `input`: must exist (file or directory). `output`: a directory the job writes into. */
  kind: "input" | "output";
  /** The task option it comes from, e.g. `modelId` or `outputFile`. */
  field: string;
}

/** The paths of one step (its queue says which container mounts it needs). */
export interface StepPaths {
  step: string;
  queue: string;
  paths: readonly PathNeed[];
}

/** A path that is not as a step needs it. */
export interface PathProblem {
  /** Absent for the cluster's own paths (the job directory). */
  step?: string;
  /** Where it comes from: a task option, `mounts`, `python`, `jobDir`. */
  field: string;
  message: string;
}

/** The contract; see the module comment. */
export interface QueueBackend {
  /** Backend kind, e.g. `local` or `slurm`. */
  readonly kind: string;
  /**
   * True when the backend itself keeps a group to its `throttle` (Slurm's `--array=…%K`): the
   * runner then submits every ready element of a map at once. Otherwise the runner holds elements
   * back so that no more than `throttle` run at once.
   */
  readonly throttlesGroups?: boolean;
  /**
   * Submits jobs. A backend submits a whole batch in as few round trips as it can. Resolves once
   * every job has an id (one {@link SubmittedJob} per spec, matched to it by `jobName`); rejects
   * with nothing submitted where it can guarantee that. When particular jobs are at fault (more
   * GPUs than the pool has, a partition Slurm refuses), it rejects with a `BackendError` whose
   * `refused` names each of them with its own reason, and nothing of the batch left submitted:
   * the runner fails those steps and submits the others again.
   */
  submit(jobs: readonly JobSpec[], options?: SubmitOptions): Promise<SubmittedJob[]>;
  /** Current state of many jobs in one call. Unknown ids come back as `lost`. */
  poll(backendJobIds: readonly string[]): Promise<Map<string, JobState>>;
  /**
   * Listens for state changes of jobs this backend instance submitted or adopted. Local backends
   * report process exit as it happens; remote ones poll adaptively while they have active jobs.
   * Returns the function that unsubscribes.
   */
  onUpdate(listener: JobUpdateListener): () => void;
  /** Cancels jobs (kills local process groups, `scancel` on Slurm). */
  cancel(backendJobIds: readonly string[]): Promise<void>;
  /** Tail of a job's log. */
  logs(backendJobId: string, options?: LogOptions): Promise<string>;
  /** After a terminal state: brings logs and `outputs.json` into the job's `attemptDir`. */
  collect(backendJobId: string): Promise<void>;
  /**
   * Takes over a job submitted by an earlier controller (resume): the backend starts watching it
   * again and returns its current state.
   */
  adopt(spec: JobSpec, backendJobId: string): Promise<JobState>;
  /**
   * The attempt directory as the job sees it (`$GPU_DAG_OUTPUT_DIR`), when it differs from
   * `spec.attemptDir` — e.g. on a cluster's shared filesystem. Relative paths in the outputs
   * manifest are relative to it. Needed for jobs adopted after a restart, which have no
   * {@link SubmittedJob}.
   */
  jobDirFor?(spec: JobSpec): Promise<string | undefined>;
  /**
   * The steps whose resources this backend can never give (a partition that does not exist, more
   * GPUs, CPUs, memory or nodes than it has), asked once before a run's first job. Problems it
   * cannot find out (the cluster is unreachable) are not reported here.
   */
  checkResources?(requests: readonly ResourceRequest[]): Promise<ResourceProblem[]>;
  /**
   * The paths of the run's steps that are not as they need them — a missing input, an output
   * directory that cannot be made, a container mount whose source is missing — asked once before
   * a run's first job, in one round trip for all of them. A backend whose config says so creates
   * output directories here.
   */
  checkPaths?(steps: readonly StepPaths[]): Promise<PathProblem[]>;
  /**
   * Optional: listens for {@link BackendNotice}s (a connection lost, restored, or refused for
   * good), so the runner can show an outage instead of going quiet. Returns the unsubscriber.
   * Backends without a connection (local) leave it out.
   */
  onNotice?(listener: BackendNoticeListener): () => void;
  /** Releases connections and timers. Does not cancel jobs. */
  close(): Promise<void>;
}

/**
 * Deterministic job name for an attempt: the same run, step and attempt always give the same
 * name, so a resumed controller can find a job it submitted before it crashed.
 */
export function jobNameFor(runId: string, step: string, attempt: number): string {
  // A map element `gen[3]` becomes `gen.3`: "." never appears in a step name, so no two steps share a name.
  const safeStep = step.replace(/\[(\d+)\]$/, ".$1").replace(/[^A-Za-z0-9_.-]/g, "_");
  return `gd-${runId}-${safeStep}-a${attempt}`;
}

/**
 * Environment variable naming the directory where the job writes `outputs.json`; one of the
 * variables of `jobEnvironment()` (job-environment.ts) every backend gives every job. Backends also
 * put the job-side Python runtime (`gpu_dag_runtime`) on `PYTHONPATH`.
 */
export const OUTPUT_DIR_ENV = "GPU_DAG_OUTPUT_DIR";
/** File name of the outputs manifest inside the attempt directory. */
export const OUTPUTS_FILE = "outputs.json";
/** Log file names inside the attempt directory. */
export const STDOUT_FILE = "stdout.log";
export const STDERR_FILE = "stderr.log";

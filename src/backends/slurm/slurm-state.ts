/**
 * Slurm job states → gpu-dag {@link JobState}.
 *
 * ```
 * PENDING, CONFIGURING, REQUEUED, RESV_DEL_HOLD, …   → queued
 *   (PENDING with Reason=DependencyNeverSatisfied → failed: the backend also scancels it)
 * RUNNING, COMPLETING, SIGNALING, STAGE_OUT, …      → running
 * COMPLETED                                         → succeeded (exit 0)
 * FAILED, OUT_OF_MEMORY, DEADLINE, …               → failed, the job's own failure
 * TIMEOUT, or the exit-code marker's `time-limit`   → failed, "time limit of <N>s exceeded"
 * NODE_FAIL, PREEMPTED, BOOT_FAIL                   → failed, infrastructure
 * CANCELLED, REVOKED                                → cancelled
 * ```
 *
 * @module
 */
import { type JobState, timeLimitReason } from "../queue-backend.js";

/** Slurm states that mean the infrastructure failed the job, not the job itself. */
export const INFRASTRUCTURE_STATES = ["NODE_FAIL", "PREEMPTED", "BOOT_FAIL"] as const;

/** Slurm states where the job failed on its own. */
export const JOB_FAILURE_STATES = ["FAILED", "OUT_OF_MEMORY", "TIMEOUT", "DEADLINE", "SPECIAL_EXIT"] as const;

const QUEUED = new Set(["PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD", "SUSPENDED", "STOPPED"]);
const RUNNING = new Set(["RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT", "RESIZING", "UPDATE_DB", "POWER_UP_NODE"]);
const INFRA = new Set<string>(INFRASTRUCTURE_STATES);
const CANCELLED = new Set(["CANCELLED", "REVOKED"]);

/** Reason Slurm gives a job whose dependency can never be satisfied. */
export const DEPENDENCY_NEVER_SATISFIED = "DependencyNeverSatisfied";

/** What Slurm (squeue, sacct, the exit-code marker) says about one job. */
export interface SlurmJobInfo {
  /** Slurm job id. */
  jobId: string;
  /** State as Slurm prints it, e.g. `RUNNING`, `CANCELLED by 1001`, `FAILED`. */
  state: string;
  /** Pending / end reason, e.g. `Resources`, `NonZeroExitCode`; `None` or empty when none. */
  reason: string;
  /** Exit code of the batch script, when known. */
  exitCode: number | null;
  /** Signal number that ended the batch script, when known (0: none). */
  signal: number | null;
  /** Node list (empty while pending). */
  nodes: string;
  /** Start time in ms since the epoch, when Slurm printed one. */
  startedAt?: number;
  /** Job name. */
  name: string;
}

/** Normalises `CANCELLED by 1001` → `CANCELLED`, `FAILED+` → `FAILED`. */
export function baseState(state: string): string {
  return state.trim().split(/[\s+]/)[0]?.toUpperCase() ?? "";
}

/** Signal number → name, for the common ones. */
export function signalName(signal: number): string {
  const names: Record<number, string> = { 1: "SIGHUP", 2: "SIGINT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM" };
  return names[signal] ?? `SIG${signal}`;
}

/** True when a pending job can never start because a dependency failed. */
export function isDependencyNeverSatisfied(info: SlurmJobInfo): boolean {
  return baseState(info.state) === "PENDING" && info.reason === DEPENDENCY_NEVER_SATISFIED;
}

/** What the backend knows about a job besides what Slurm says (see {@link toJobState}). */
export interface JobStateContext {
  /** The job's final time limit (its spec's), for the reason of a job that outlived it. */
  timeLimitSeconds?: number | undefined;
  /** The exit-code marker says the batch script's watchdog stopped the command at its limit. */
  timedOut?: boolean;
}

/** Maps what Slurm says about a job to a {@link JobState}. Pure. */
export function toJobState(info: SlurmJobInfo, context: JobStateContext = {}): JobState {
  const state = baseState(info.state);
  const reason = info.reason && info.reason !== "None" && info.reason !== "(null)" ? info.reason : "";
  // gpu-dag's watchdog stopped it (the script then exits 124: Slurm says FAILED), or Slurm did.
  if (state === "TIMEOUT" || (context.timedOut && !QUEUED.has(state) && !RUNNING.has(state) && !CANCELLED.has(state))) {
    const how = state === "TIMEOUT" ? `Slurm job ${info.jobId} TIMEOUT` : `Slurm job ${info.jobId} stopped at its limit by gpu-dag`;
    const detail = failed(info, state, reason, false) as Extract<JobState, { status: "failed" }>;
    return { ...detail, reason: `${timeLimitReason(context.timeLimitSeconds)} (${how})` };
  }
  if (isDependencyNeverSatisfied(info)) {
    return {
      status: "failed",
      exitCode: null,
      signal: null,
      infrastructure: false,
      reason: `Slurm job ${info.jobId} can never start: a dependency failed (${DEPENDENCY_NEVER_SATISFIED})`,
    };
  }
  if (QUEUED.has(state)) return reason ? { status: "queued", reason } : { status: "queued" };
  if (RUNNING.has(state)) {
    return {
      status: "running",
      ...(info.startedAt !== undefined ? { startedAt: info.startedAt } : {}),
      ...(info.nodes ? { node: info.nodes } : {}),
    };
  }
  if (state === "COMPLETED") {
    if (info.exitCode !== null && info.exitCode !== 0) return failed(info, state, reason, false);
    return { status: "succeeded", exitCode: 0 };
  }
  if (CANCELLED.has(state)) return { status: "cancelled", reason: `Slurm job ${info.jobId} ${info.state.trim()}` };
  if (INFRA.has(state)) return failed(info, state, reason, true);
  return failed(info, state, reason, false);
}

function failed(info: SlurmJobInfo, state: string, reason: string, infrastructure: boolean): JobState {
  const signal = info.signal ? signalName(info.signal) : null;
  const exit = info.exitCode === null ? "" : `, exit code ${info.exitCode}`;
  return {
    status: "failed",
    exitCode: info.exitCode,
    signal,
    infrastructure,
    reason: `Slurm job ${info.jobId} ${state}${reason ? ` (${reason})` : ""}${exit}${signal ? `, signal ${signal}` : ""}`,
  };
}

/** Splits a raw wait status (`squeue -O exit_code`: exit << 8 | signal) into exit code and signal. */
export function splitWaitStatus(raw: number): { exitCode: number; signal: number } {
  return { exitCode: (raw >> 8) & 0xff, signal: raw & 0x7f };
}

/** Parses Slurm's `EXIT:SIGNAL` (`sacct ExitCode`, `scontrol ExitCode=3:0`). */
export function parseExitSignal(text: string): { exitCode: number | null; signal: number | null } {
  const match = /^(\d+):(\d+)$/.exec(text.trim());
  if (!match) return { exitCode: null, signal: null };
  return { exitCode: Number(match[1]), signal: Number(match[2]) };
}

/** Parses a Slurm timestamp (`2024-05-01T12:00:00`, local time); `undefined` for `N/A`, `Unknown`, `NONE`. */
export function parseSlurmTime(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(text.trim())) return undefined;
  const ms = new Date(text.trim()).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * What the local backend keeps of each job, and the small pieces its modules share: how an exit
 * becomes a {@link JobState}, and who holds a job's GPUs.
 *
 * @module
 */
import { userInfo } from "node:os";
import type { JobSpec, JobState } from "../queue-backend.js";
import type { LeaseHolder } from "./gpu-leases.js";
import type { GpuPool } from "./gpu-pool.js";

/** One job of a `LocalBackend`, spawned by it or adopted. */
export interface LocalJob {
  spec: JobSpec;
  state: JobState;
  pid?: number;
  devices?: string[];
  /** Devices of an adopted job, held in the pool until it ends. */
  adoptedDevices?: string[] | undefined;
  cancelWait?: () => boolean;
  timer?: NodeJS.Timeout;
  cancelRequested?: boolean;
  timedOut?: boolean;
  /** Time-limit timer of a job this instance did not spawn (adopted, or a claimant followed). */
  limitTimer?: NodeJS.Timeout;
  /** Who holds this job's GPUs, for waiters elsewhere; `pid` set once spawned. */
  holder?: LeaseHolder;
  /** The job's place in the pool, kept when it waits again after its wrapper found a GPU taken. */
  seq?: number;
}

/** What the backend's helper modules may use of it. */
export interface LocalJobHost {
  readonly pool: GpuPool;
  /** Milliseconds between SIGTERM and SIGKILL. */
  readonly killGraceMs: number;
  /** Sets the state of job `id` and tells the listeners. */
  set(id: string, job: LocalJob, state: JobState): void;
}

/** The state of a job that ended with `code` / `signal`. */
export function exitState(code: number | null, signal: NodeJS.Signals | null, infrastructure: boolean): JobState {
  if (code === 0) return { status: "succeeded", exitCode: 0, endedAt: Date.now() };
  return {
    status: "failed",
    exitCode: code,
    signal,
    infrastructure,
    reason: signal ? `killed by ${signal}` : `exited with code ${code}`,
    endedAt: Date.now(),
  };
}

/** The lease holder record of a job of `spec` run by this process. */
export function holderFor(spec: JobSpec, pid?: number): LeaseHolder {
  return { runId: spec.runId, step: spec.step, attempt: spec.attempt, user: currentUser(), ...(pid !== undefined ? { pid } : {}) };
}

let user: string | undefined;
/** This process's user name, for lease holder records. */
function currentUser(): string {
  if (user === undefined) {
    try {
      user = userInfo().username;
    } catch {
      user = String(process.getuid?.() ?? "?");
    }
  }
  return user;
}

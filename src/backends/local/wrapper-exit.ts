/**
 * What a local job's wrapper's end means, when this instance started it (its exit status is
 * known): it ended (its code, or cancelled / timed out once its whole group is gone), it found a
 * GPU lease taken and ran nothing (it waits in the pool again), or it found its attempt claimed
 * by another process (that one is followed instead).
 *
 * @module
 */
import { timeLimitReason } from "../queue-backend.js";
import { followClaimant } from "./adoption.js";
import { claimedBy, forgetStart } from "./attempt-files.js";
import { LEASE_BUSY_EXIT } from "./gpu-leases.js";
import { DUPLICATE_EXIT } from "./job-wrapper.js";
import { exitState, type LocalJob, type LocalJobHost } from "./local-job.js";
import { groupGone } from "./process-group.js";

/** What {@link onWrapperExit} needs of the backend. */
export interface ExitHost extends LocalJobHost {
  /** True once the backend is closed. */
  closed(): boolean;
  /** Queues the job in the pool again, in its old place. */
  requeue(id: string, job: LocalJob): void;
}

/** The wrapper of job `id` (on `devices`; `locked`: it takes their leases) exited with `code` / `signal`. */
export function onWrapperExit(host: ExitHost, id: string, job: LocalJob, devices: string[], locked: boolean, code: number | null, signal: NodeJS.Signals | null): void {
  const { spec } = job;
  const pid = job.pid;
  if (job.limitTimer) clearTimeout(job.limitTimer);
  if (code === LEASE_BUSY_EXIT && locked && !job.cancelRequested && !job.timedOut && !claimedBy(spec.attemptDir, pid)) {
    // Another holder took one of its GPUs after the pool saw it free: the wrapper ran nothing
    // (it locks before it claims; a command of its own exiting 87 ran under its claim).
    // Forget the start (a controller crashing now must not adopt a dead wrapper as "lost")
    // and wait again, in the same place.
    forgetStart(spec.attemptDir);
    delete job.pid;
    host.pool.release(devices, { busy: true });
    if (host.closed()) return;
    host.requeue(id, job);
    return;
  }
  host.pool.release(devices);
  if (code === DUPLICATE_EXIT && !job.cancelRequested && !job.timedOut) {
    // Another process (started by a controller that died before recording it) claimed this
    // attempt first: ours ran nothing. Follow the claimant instead.
    void followClaimant(host, id, job, pid);
    return;
  }
  if (job.cancelRequested || job.timedOut) {
    // The wrapper is gone, but what it started may ignore SIGTERM: the job has ended only once
    // its whole process group has (SIGKILL follows after the grace period).
    void groupGone(pid).then(() => {
      if (job.cancelRequested) host.set(id, job, { status: "cancelled", reason: "cancelled while running" });
      else host.set(id, job, { status: "failed", exitCode: code, signal, infrastructure: false, reason: timeLimitReason(spec.resources.timeLimitSeconds), endedAt: Date.now() });
    });
  } else host.set(id, job, exitState(code, signal, false));
}

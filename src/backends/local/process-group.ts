/**
 * Signalling a local job's process group (each job is started `detached`, as its own group, so
 * cancel and the time limit reach everything it started).
 *
 * @module
 */

/** A job whose process group may be signalled; `pid` is read at each signal (it may change). */
export interface GroupOwner {
  pid?: number;
}

/** Sends `signal` to the process group of `job` (nothing when it has no pid or is gone). */
export function killGroup(job: GroupOwner, signal: NodeJS.Signals): void {
  if (job.pid === undefined) return;
  try {
    process.kill(-job.pid, signal);
  } catch {
    // Already gone.
  }
}

/** SIGTERM to the group of `job` now, SIGKILL after `graceMs` (that timer does not hold the process up). */
export function terminateGroup(job: GroupOwner, graceMs: number): void {
  killGroup(job, "SIGTERM");
  setTimeout(() => killGroup(job, "SIGKILL"), graceMs).unref();
}

/** Resolves once no process of group `pgid` is left (polled: a group has no exit event). */
export function groupGone(pgid: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const gone = () => {
      if (pgid === undefined) return true;
      try {
        process.kill(-pgid, 0);
        return false;
      } catch {
        return true; // ESRCH: none left (EPERM cannot be ours: the group was our child's)
      }
    };
    if (gone()) return resolve();
    // Not unref'd: the process stays up (and its SIGKILL escalation timer with it) until the group is gone.
    const timer = setInterval(() => {
      if (!gone()) return;
      clearInterval(timer);
      resolve();
    }, 50);
  });
}

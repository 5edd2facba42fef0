/**
 * Enforcing a step's time limit on a local job: SIGTERM to its process group when the limit is
 * reached, SIGKILL after the grace period; the job then ends `failed` with the time-limit reason.
 *
 * @module
 */
import { claimedAt } from "./attempt-files.js";
import type { LocalJob } from "./local-job.js";
import { terminateGroup } from "./process-group.js";

/**
 * Arms the limit of a job this instance starts, counted from now. Its timer is kept in
 * `job.limitTimer`, cleared when the job's wrapper ends (or by whoever watches it instead, after
 * its spawner died).
 */
export function limitSpawned(job: LocalJob, graceMs: number): void {
  const seconds = job.spec.resources.timeLimitSeconds;
  if (seconds === undefined) return;
  job.limitTimer = setTimeout(() => {
    job.timedOut = true;
    terminateGroup(job, graceMs);
  }, seconds * 1000);
  job.limitTimer.unref();
}

/**
 * Arms the limit of a job we did not spawn, counted from when its wrapper claimed the attempt
 * (the claim file's mtime): a controller crash must not lift a step's limit. Its timer is kept in
 * `job.limitTimer`, for whoever watches the job to clear.
 */
export async function limitAdopted(job: LocalJob, graceMs: number): Promise<void> {
  const seconds = job.spec.resources.timeLimitSeconds;
  if (seconds === undefined) return;
  const started = await claimedAt(job.spec.attemptDir);
  job.limitTimer = setTimeout(
    () => {
      if (job.state.status !== "running") return;
      job.timedOut = true;
      terminateGroup(job, graceMs);
    },
    Math.max(0, started + seconds * 1000 - Date.now()),
  );
  job.limitTimer.unref();
}

/**
 * Stopping local jobs that no live backend watches (their controller crashed): each attempt's
 * process group, found by the pid recorded in its `job.json` and checked against the recorded
 * start time, so a reused pid is never signalled. SIGTERM to every group at once, SIGKILL to what
 * is left after the grace period. Used by `gpu-dag cancel` for runs without a controller.
 *
 * @module
 */
import { readJobFile } from "./attempt-files.js";
import { groupGone, killGroup } from "./process-group.js";
import { isSameProcess } from "./process-info.js";

/** Stops the jobs of `attemptDirs`; resolves with the process group signalled per directory (none when nothing ran there). */
export async function stopRecordedJobs(attemptDirs: readonly string[], graceMs: number): Promise<Map<string, number>> {
  const signalled = new Map<string, number>();
  for (const dir of attemptDirs) {
    const job = await readJobFile(dir);
    if (!job?.startTime || !isSameProcess(job.pid, job.startTime)) continue;
    killGroup(job, "SIGTERM");
    signalled.set(dir, job.pid);
  }
  const pids = [...signalled.values()];
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  await Promise.race([Promise.all(pids.map((pid) => groupGone(pid))), grace]);
  clearTimeout(timer);
  for (const pid of pids) killGroup({ pid }, "SIGKILL");
  return signalled;
}

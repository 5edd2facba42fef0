/**
 * Jobs the local backend did not spawn: adopted after a controller restart, or the claimant
 * followed when our own wrapper found the attempt claimed (see job-wrapper.ts). They are not our
 * children, so there is no exit event: they are watched through /proc, and how they ended is read
 * from the wrapper's exit code file.
 *
 * @module
 */
import { type JobState, timeLimitReason } from "../queue-backend.js";
import { attemptStarted, liveProcess, type ProcessRecord, readExitCode, readJobFile, writeJobFile } from "./attempt-files.js";
import { exitState, holderFor, type LocalJob, type LocalJobHost } from "./local-job.js";
import { terminateGroup } from "./process-group.js";
import { isSameProcess } from "./process-info.js";
import { limitAdopted } from "./time-limit.js";

/**
 * Finds out what became of the started attempt of `job` (registered as `id`, state `lost` until
 * known): ended (its exit code), still running (then watched, its GPUs counted as the pool's,
 * its time limit enforced) or lost.
 */
export async function adoptJob(host: LocalJobHost, id: string, job: LocalJob): Promise<JobState> {
  const { spec } = job;
  const exit = await readExitCode(spec.attemptDir);
  if (exit !== undefined) {
    job.state = exitState(exit, null, false);
    return job.state;
  }
  const live = await liveProcess(spec.attemptDir);
  if (live) {
    job.pid = live.pid;
    job.state = { status: "running" };
    // Its processes still hold its GPUs' leases; count them as this run's too, so the pool does
    // not hand them to one of its own jobs (whose wrapper would only find them taken).
    job.adoptedDevices = host.pool.claim((await readJobFile(spec.attemptDir))?.devices ?? [], holderFor(spec, live.pid));
    watchAdopted(host, id, job, live);
    await limitAdopted(job, host.killGraceMs);
    return job.state;
  }
  const late = await readExitCode(spec.attemptDir); // it may have ended while we looked
  if (late !== undefined) {
    job.state = exitState(late, null, false);
    return job.state;
  }
  const record = await readJobFile(spec.attemptDir);
  job.state = { status: "lost", reason: record ? `process ${record.pid} is gone and left no exit code` : "job never started (no pid recorded)" };
  return job.state;
}

/** Our wrapper was a duplicate: watch the process that holds the claim, or take its result. */
export async function followClaimant(host: LocalJobHost, id: string, job: LocalJob, ownPid: number | undefined): Promise<void> {
  const live = await liveProcess(job.spec.attemptDir);
  if (live && live.pid !== ownPid) {
    job.pid = live.pid;
    // job.json names our duplicate (now gone): record the claimant, for controllers after us.
    writeJobFile(job.spec.attemptDir, live.pid, live.startTime, []);
    watchAdopted(host, id, job, live);
    await limitAdopted(job, host.killGraceMs);
    return;
  }
  const code = await readExitCode(job.spec.attemptDir);
  host.set(id, job, code === undefined ? { status: "lost", reason: "attempt claimed by another process that left no exit code" } : exitState(code, null, false));
}

/**
 * The spawner of `job` (one this instance started, its devices still held for it) ended before
 * the job did: find out what became of it, as for an adopted job. `"watched"`: it runs, watched
 * through /proc from now on; `"ended"`: its state is set; `"not-started"`: nothing of it ran
 * (no `job.json`, no claim): the caller starts it again (a wrapper the dying spawner did start
 * meanwhile loses the claim to it, or wins it and is followed).
 */
export async function reattach(host: LocalJobHost, id: string, job: LocalJob): Promise<"watched" | "ended" | "not-started"> {
  const dir = job.spec.attemptDir;
  const exit = await readExitCode(dir);
  if (exit !== undefined) {
    host.set(id, job, exitState(exit, null, false));
    return "ended";
  }
  const live = await liveProcess(dir);
  if (live) {
    job.pid = live.pid;
    if (job.holder) job.holder.pid = live.pid;
    if (job.state.status === "queued") host.set(id, job, { status: "running", startedAt: Date.now(), node: "localhost" });
    if (job.cancelRequested || job.timedOut) terminateGroup(job, host.killGraceMs);
    watchAdopted(host, id, job, live);
    return "watched";
  }
  const late = await readExitCode(dir);
  if (late !== undefined) {
    host.set(id, job, exitState(late, null, false));
    return "ended";
  }
  if (job.limitTimer) clearTimeout(job.limitTimer);
  if (job.cancelRequested) {
    host.set(id, job, { status: "cancelled", reason: "cancelled while running" });
    return "ended";
  }
  if (job.timedOut) {
    host.set(id, job, { status: "failed", exitCode: null, signal: null, infrastructure: false, reason: timeLimitReason(job.spec.resources.timeLimitSeconds), endedAt: Date.now() });
    return "ended";
  }
  if (!(await attemptStarted(dir))) return "not-started";
  const record = await readJobFile(dir);
  host.set(id, job, { status: "lost", reason: `process ${record?.pid ?? "?"} is gone and left no exit code (its spawner died)` });
  return "ended";
}

function watchAdopted(host: LocalJobHost, id: string, job: LocalJob, record: ProcessRecord): void {
  // Not our child: no exit event. Watch /proc, then read the wrapper's exit code.
  job.timer = setInterval(() => {
    if (isSameProcess(record.pid, record.startTime)) return;
    clearInterval(job.timer);
    void (async () => {
      if (job.limitTimer) clearTimeout(job.limitTimer);
      // Killed by cancel() or the time limit: the wrapper died with it and wrote no exit code. Not "lost".
      if (job.cancelRequested) return host.set(id, job, { status: "cancelled", reason: "cancelled while running" });
      if (job.timedOut) {
        const limit = job.spec.resources.timeLimitSeconds;
        return host.set(id, job, { status: "failed", exitCode: null, signal: null, infrastructure: false, reason: timeLimitReason(limit), endedAt: Date.now() });
      }
      const code = await readExitCode(job.spec.attemptDir);
      if (code !== undefined) return host.set(id, job, exitState(code, null, false));
      // A wrapper watched before it claimed may have been the duplicate: follow the claimant.
      const live = await liveProcess(job.spec.attemptDir);
      if (live && live.pid !== record.pid) {
        job.pid = live.pid;
        return watchAdopted(host, id, job, live);
      }
      host.set(id, job, { status: "lost", reason: `process ${record.pid} ended without an exit code` });
    })();
  }, 200);
  // Not unref'd: like a child's handle, the watch keeps the process alive until the job ends
  // (or close()). A resumed controller whose only work is adopted jobs must wait for them.
}

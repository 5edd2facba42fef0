/**
 * Cancelling a run that no live controller holds (its controller crashed or was killed): under
 * the run's lock, stop the jobs the journal says are in flight — local process groups by the pid
 * recorded in `job.json`, checked against the recorded start time so a reused pid is never
 * signalled; other backends through their `cancel()` — then journal the attempts and the run as
 * cancelled.
 *
 * @module
 */
import { ClusterConfigSchema } from "../config/cluster-config.js";
import { takeOverFromControllerJob } from "../remote/controller-guard.js";
import { replayJournal } from "../runner/replay.js";
import type { Store } from "../store/store.js";

/** One in-flight attempt that was cancelled. */
export interface CancelledAttempt {
  step: string;
  attempt: number;
  backendJobId?: string;
  /** Local process group that was signalled. */
  pid?: number;
  /** How the job was stopped. */
  outcome: "killed" | "not running" | "backend cancel" | "backend cancel failed";
}

/** Options of {@link cancelOffline}. */
export interface CancelOfflineOptions {
  /** Seconds between SIGTERM and SIGKILL (default 5). */
  graceSeconds?: number;
}

/** See the module comment. Returns what was done to each in-flight attempt. */
export async function cancelOffline(store: Store, runId: string, options: CancelOfflineOptions = {}): Promise<CancelledAttempt[]> {
  const record = await store.getRun(runId);
  const lock = await store.lockRun(runId);
  try {
    // Never journal over a controller job's newer entries: refused while it lives, taken over once dead.
    await takeOverFromControllerJob(store, runId);
    const stepNames = ((record.pipeline as { steps?: Array<{ name: string }> }).steps ?? []).map((s) => s.name);
    const replay = replayJournal(await store.readJournal(runId), stepNames);
    if (replay.status !== "running") return [];
    const config = ClusterConfigSchema.safeParse(record.clusterConfig ?? { executor: "local" });
    const local = !config.success || config.data.executor === "local";

    const inFlight = [...replay.steps.values()].flatMap((s) => {
      const last = s.attempts[s.attempts.length - 1];
      return last && last.status === undefined ? [{ step: s.name, attempt: last }] : [];
    });
    const done: CancelledAttempt[] = [];
    const remote: string[] = [];
    const localDirs = new Map<CancelledAttempt, string>();
    for (const { step, attempt } of inFlight) {
      const entry: CancelledAttempt = { step, attempt: attempt.attempt, outcome: "not running", ...(attempt.backendJobId ? { backendJobId: attempt.backendJobId } : {}) };
      if (local) localDirs.set(entry, store.attemptPath(runId, step, attempt.attempt));
      else if (attempt.backendJobId) {
        remote.push(attempt.backendJobId);
        entry.outcome = "backend cancel";
      }
      done.push(entry);
    }
    if (localDirs.size > 0) {
      // Process control stays in the local backend; loaded only for local runs.
      const { stopRecordedJobs } = await import("../backends/local/stop-recorded-jobs.js");
      const signalled = await stopRecordedJobs([...localDirs.values()], (options.graceSeconds ?? 5) * 1000);
      for (const [entry, dir] of localDirs) {
        const pid = signalled.get(dir);
        if (pid === undefined) continue;
        entry.pid = pid;
        entry.outcome = "killed";
      }
    }

    if (remote.length > 0 && config.success) {
      try {
        const { buildEnvironment } = await import("../api/build-environment.js");
        const environment = await buildEnvironment(record.cluster.name, config.data);
        try {
          await environment.backend.cancel(remote);
        } finally {
          await environment.backend.close();
        }
      } catch (error) {
        for (const entry of done) if (entry.outcome === "backend cancel") entry.outcome = "backend cancel failed";
        process.stderr.write(`gpu-dag: could not cancel ${remote.join(", ")} through the ${config.data.executor} backend: ${(error as Error).message}\n`);
      }
    }

    const reason = "cancelled by `gpu-dag cancel` (no controller was running)";
    for (const { step, attempt } of inFlight) {
      await store.appendJournal(runId, { type: "attempt-finished", at: Date.now(), step, attempt: attempt.attempt, status: "cancelled", exitCode: null, infrastructure: false, reason });
    }
    await store.appendJournal(runId, { type: "run-finished", at: Date.now(), status: "cancelled" });
    return done;
  } finally {
    await lock.release();
    await store.close();
  }
}

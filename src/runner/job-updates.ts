/**
 * What the backend says about a submitted job, applied to its step: a reason to wait (journaled
 * as `job-waiting`, emitted as `step:waiting`), its start (`job-started`, `step:start`), its end —
 * outputs collected and recorded on success (`collect-outputs.ts`), the cache entry written, the
 * `postExecute` hooks run; a failure or loss goes to `attempt-failures.ts`.
 *
 * @module
 */
import { isTerminal, type JobState } from "../backends/queue-backend.js";
import type { StepOutputs } from "../store/records.js";
import { attemptFailed } from "./attempt-failures.js";
import { collectOutputs } from "./collect-outputs.js";
import { runPostExecute } from "./hook-runner.js";
import type { RunContext, StepState } from "./run-context.js";
import { isTerminalPhase } from "./step-state.js";

/** Applies job `id`'s new state to its step (ignored for a job the run no longer watches). */
export function onJobUpdate(ctx: RunContext, id: string, job: JobState): void {
  const state = ctx.byJob.get(id);
  if (!state || state.jobId !== id || isTerminalPhase(state.phase)) return;
  if (job.status === "queued") {
    onJobWaiting(ctx, state, job.reason ?? "");
  } else if (job.status === "running" && state.phase !== "running") {
    if (state.waitReason) delete state.result.reason;
    delete state.waitReason;
    ctx.setPhase(state, "running");
    state.result.startedAt = job.startedAt ?? Date.now();
    void ctx.journal.appendTracked({ type: "job-started", at: Date.now(), step: state.name, attempt: state.attempt });
    ctx.emit({ type: "step:start", runId: ctx.options.runId, step: state.name, attempt: state.attempt, jobId: id, at: Date.now() });
  } else if (isTerminal(job)) {
    ctx.byJob.delete(id);
    void onJobEnded(ctx, state, job).catch((e: unknown) => ctx.fail(e));
  }
}

/**
 * A queued job's reason to wait changed (e.g. `waiting for GPU: GPU 0 held by run X step Y`):
 * journaled (so `status` and `watch` show it) and emitted as `step:waiting`; "" clears it.
 */
function onJobWaiting(ctx: RunContext, state: StepState, reason: string): void {
  if (state.result.status !== "queued" || reason === (state.waitReason ?? "")) return;
  state.waitReason = reason;
  if (reason) state.result.reason = reason;
  else delete state.result.reason;
  void ctx.journal.append({ type: "job-waiting", at: Date.now(), step: state.name, attempt: state.attempt, reason });
  ctx.emit({ type: "step:waiting", runId: ctx.options.runId, step: state.name, attempt: state.attempt, reason, at: Date.now() });
}

async function onJobEnded(ctx: RunContext, state: StepState, job: JobState): Promise<void> {
  const { runId, store, environment } = ctx.options;
  const name = state.name;
  state.result.endedAt = Date.now();
  if (state.result.startedAt !== undefined) state.result.durationMs = state.result.endedAt - state.result.startedAt;
  const backend = environment.backend;
  // The ended attempt's spec (argv, env, secrets, input files) is let go, not kept for every
  // finished step of a long run; a retry builds its own.
  const attemptDir = state.spec!.attemptDir;
  delete state.spec;
  await backend.collect(state.jobId!).catch(() => undefined);
  if (job.status === "succeeded") {
    let outputs: StepOutputs;
    try {
      outputs = await collectOutputs(store, attemptDir, { runId, step: name, attempt: state.attempt, cluster: environment.clusterName, jobDir: state.jobDir ?? attemptDir });
    } catch (error) {
      await attemptFailed(ctx, state, 0, (error as Error).message, false);
      return;
    }
    // Not awaited before releasing the children: the journal is written in append order, so a
    // child's `attempt-planned` (awaited before its submission) is durable only once this line
    // is too. Both usually share one fsync (group commit) instead of costing one each on the
    // parent-exit → child-start path. The run does not finish before it is durable (checkDone).
    const finished = ctx.journal.appendTracked({
      type: "attempt-finished",
      at: Date.now(),
      step: name,
      attempt: state.attempt,
      status: "succeeded",
      exitCode: 0,
      infrastructure: false,
      reason: "",
      outputs,
    });
    if (state.cacheKey) {
      await finished; // a cache entry never points at a success its own run has not recorded
      await store.putCacheEntry({ key: state.cacheKey, runId, step: name, outputs, createdAt: new Date().toISOString() });
    }
    state.result.exitCode = 0;
    state.result.outputs = outputs;
    await runPostExecute(ctx.options.hooks, { runId, step: name, attempt: state.attempt, parameters: state.resolvedOptions ?? {}, outputs });
    ctx.emit({ type: "step:success", runId, step: name, attempt: state.attempt, outputs, cached: false, at: Date.now() });
    ctx.finishStep(state, "succeeded", undefined, true);
    return;
  }
  if (job.status === "cancelled") {
    await ctx.journal.append({ type: "attempt-finished", at: Date.now(), step: name, attempt: state.attempt, status: "cancelled", exitCode: null, infrastructure: false, reason: job.reason });
    ctx.finishStep(state, "cancelled", ctx.aborted() ? ctx.cancelReason() : job.reason);
    return;
  }
  const exitCode = job.status === "failed" ? job.exitCode : null;
  const infrastructure = job.status === "lost" || (job.status === "failed" && job.infrastructure);
  const tail = await backend.logs(state.jobId!, { stream: "stderr", tailBytes: 2048 }).catch(() => "");
  const why = "reason" in job ? job.reason : job.status;
  // The tail is the job's own output: it may print its secrets; gpu-dag's copy of it must not hold them.
  const reason = ctx.journal.scrub(`${why}${state.jobId ? ` (job ${state.jobId})` : ""}${tail.trim() ? `; stderr tail:\n${tail.trimEnd()}` : ""}`);
  await attemptFailed(ctx, state, exitCode, reason, infrastructure, job.status === "lost");
}

/**
 * Submitting prepared steps as one batch. An error is attributed to the step it belongs to
 * (`backend-failures.ts`): jobs the backend names as refused fail their own steps and the rest of
 * the batch is submitted again; an error of the whole batch is every step's, with its real reason.
 * Each accepted job is journaled (`job-submitted`) and its step moves to `submitted`.
 *
 * @module
 */
import type { JobSpec, SubmittedJob } from "../backends/queue-backend.js";
import { attemptFailed, submissionFailed } from "./attempt-failures.js";
import { classifySubmitError, refusal } from "./backend-failures.js";
import type { RunContext, StepState } from "./run-context.js";

/** A step whose attempt is prepared. */
export type PreparedStep = StepState & { spec: JobSpec };

/** Submits `specs` (phase `preparing`); see the module comment. */
export async function submitBatch(ctx: RunContext, specs: readonly PreparedStep[]): Promise<void> {
  const backend = ctx.options.environment.backend;
  let submitted: SubmittedJob[];
  try {
    submitted = await backend.submit(specs.map((s) => s.spec));
  } catch (error) {
    const failure = classifySubmitError(
      error,
      specs.map((s) => s.spec.jobName),
    );
    if (failure.kind === "refused") {
      const { refused } = failure;
      for (const state of specs.filter((s) => refused.has(s.spec.jobName))) {
        const { reason, permanent } = refused.get(state.spec.jobName)!;
        void ctx.journal.track(submissionFailed(ctx, state, `submission failed: ${ctx.journal.scrub(reason)}`, permanent));
      }
      const others = specs.filter((s) => !refused.has(s.spec.jobName));
      if (others.length === 0) return;
      if (ctx.aborted()) {
        for (const state of others) ctx.finishStep(state, "cancelled", ctx.cancelReason());
        return;
      }
      await submitBatch(ctx, others);
      return;
    }
    if (failure.kind === "connection") {
      // The cluster refused the connection: retrying cannot help. Fail the run once (its reason
      // says why), not each step with the message.
      ctx.fatal(failure.error);
      for (const state of specs) void attemptFailed(ctx, state, null, `not submitted: ${refusal(failure.error)}; the run failed (see its reason)`, false);
      return;
    }
    const reason = `submission failed: ${ctx.journal.scrub(failure.message)}`;
    for (const state of specs) void ctx.journal.track(submissionFailed(ctx, state, reason, failure.permanent));
    return;
  }
  // Matched by job name: a backend need not answer in the order of the batch.
  const byName = new Map(specs.map((s) => [s.spec.jobName, s]));
  await Promise.all(
    submitted.map((job, i) => {
      const state = byName.get(job.jobName) ?? specs[i]!;
      ctx.setPhase(state, "submitted");
      state.jobId = job.backendJobId;
      state.result.jobId = job.backendJobId;
      state.result.queuedAt = Date.now();
      if (job.jobDir) state.jobDir = job.jobDir;
      ctx.byJob.set(job.backendJobId, state);
      ctx.emit({ type: "step:queued", runId: ctx.options.runId, step: state.name, attempt: state.attempt, jobId: job.backendJobId, queue: state.queue.name, at: Date.now() });
      return ctx.journal.append({ type: "job-submitted", at: Date.now(), step: state.name, attempt: state.attempt, backendJobId: job.backendJobId });
    }),
  );
  if (ctx.aborted()) {
    await backend.cancel(submitted.map((j) => j.backendJobId)).catch(() => undefined);
  }
  // A job may have changed state before its id was known here; catch up in one poll.
  const states = await backend.poll(submitted.map((j) => j.backendJobId));
  for (const [id, state] of states) ctx.onJobUpdate(id, state);
}

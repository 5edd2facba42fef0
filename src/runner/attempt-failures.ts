/**
 * A failed attempt: journaled, counted against its budget (`retry-policy.ts`), and either retried
 * after a backoff (the step waits in `backoff`, then is ready again) or the step's failure — which
 * skips its descendants unless `continueOnFail`, and cancels the run under `abortOnFailure`.
 *
 * @module
 */
import { backoffDelay, shouldRetry } from "./retry-policy.js";
import type { RunContext, StepState } from "./run-context.js";

/** Journals the failed attempt and retries it or fails the step; `lost` journals it as lost. */
export async function attemptFailed(ctx: RunContext, state: StepState, exitCode: number | null, reason: string, infrastructure: boolean, lost = false): Promise<void> {
  const name = state.name;
  await ctx.journal.append({ type: "attempt-finished", at: Date.now(), step: name, attempt: state.attempt, status: lost ? "lost" : "failed", exitCode, infrastructure, reason });
  if (infrastructure) state.infraFailures += 1;
  else state.jobFailures += 1;
  const willRetry =
    !ctx.aborted() &&
    shouldRetry({
      infrastructure,
      infraFailures: state.infraFailures,
      jobFailures: state.jobFailures,
      infrastructureRetries: ctx.options.infrastructureRetries,
      retryOnFailure: state.planned.spec.retryOnFailure,
    });
  ctx.emit({ type: "step:failure", runId: ctx.options.runId, step: name, attempt: state.attempt, reason, exitCode, willRetry, at: Date.now() });
  if (!willRetry) {
    stepFailed(ctx, state, exitCode, reason, infrastructure);
    return;
  }
  const delay = backoffDelay(ctx.options.retryBackoffMs, infrastructure ? state.infraFailures : state.jobFailures);
  ctx.setPhase(state, "backoff");
  const timer = setTimeout(() => {
    ctx.retryTimers.delete(timer);
    if (ctx.aborted()) ctx.finishStep(state, "cancelled", ctx.cancelReason());
    else ctx.markReady(state);
  }, delay);
  ctx.retryTimers.add(timer);
}

/** Fails the attempt and the step at once, without retrying (the same submission would fail again). */
export async function failForGood(ctx: RunContext, state: StepState, reason: string): Promise<void> {
  const name = state.name;
  await ctx.journal.append({ type: "attempt-finished", at: Date.now(), step: name, attempt: state.attempt, status: "failed", exitCode: null, infrastructure: false, reason });
  ctx.emit({ type: "step:failure", runId: ctx.options.runId, step: name, attempt: state.attempt, reason, exitCode: null, willRetry: false, at: Date.now() });
  stepFailed(ctx, state, null, reason, false);
}

/** A submission refused: for good when it would be refused again, else as an infrastructure failure (retried). */
export function submissionFailed(ctx: RunContext, state: StepState, reason: string, permanent: boolean): Promise<void> {
  return permanent ? failForGood(ctx, state, reason) : attemptFailed(ctx, state, null, reason, true);
}

/** The step failed for good. */
export function stepFailed(ctx: RunContext, state: StepState, exitCode: number | null, reason: string, infrastructure: boolean): void {
  state.result.exitCode = exitCode;
  state.result.infrastructure = infrastructure;
  const continueOnFail = state.planned.spec.continueOnFail === true;
  ctx.finishStep(state, "failed", reason, continueOnFail);
  if (ctx.options.abortOnFailure && !continueOnFail) ctx.abort(`step "${state.name}" failed and abortOnFailure is set`);
}

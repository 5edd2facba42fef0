/**
 * Preparing a ready step for submission: render it (placeholders from its parents' outputs), take
 * the cache's earlier outputs or let a `preExecute` hook decline, and otherwise spend the next
 * attempt number — journal `attempt-planned`, make the attempt directory, build the job spec.
 * A cached or declined step spends no attempt number.
 *
 * @module
 */
import { redactOptions } from "../store/redact.js";
import { stepFailed } from "./attempt-failures.js";
import { attemptSpec, renderStepAttempt, secretNamesOf } from "./attempt-spec.js";
import { cachedOutputs, stepCacheKey } from "./cache-decision.js";
import { preExecuteAllows } from "./hook-runner.js";
import type { RunContext, StepState } from "./run-context.js";

/** Prepares `state` (phase `preparing`); returns it with its spec when it is to be submitted. */
export async function prepareAttempt(ctx: RunContext, state: StepState): Promise<StepState | undefined> {
  const { runId, store, environment } = ctx.options;
  const name = state.name;
  const attempt = state.attempt + 1; // spent only when the step is to run (or fails to launch)
  try {
    const rendered = await renderStepAttempt({ runId, planned: state.planned, queue: state.queue, attempt, scope: ctx.scope(), store, environment, runtime: ctx.options.runtime });
    const { resolved, env } = rendered;
    state.resolvedOptions = { ...resolved.task.options };
    const key = stepCacheKey(ctx, state, rendered);
    if (key !== undefined) state.cacheKey = key;
    const hit = await cachedOutputs(store, key, ctx.forced.has(name));
    if (hit) {
      await ctx.journal.append({ type: "step-cached", at: Date.now(), step: name, fromRunId: hit.runId, fromStep: hit.step, outputs: hit.outputs });
      state.result.outputs = hit.outputs;
      state.result.reason = `cached: outputs of run ${hit.runId}, step ${hit.step}`;
      ctx.emit({ type: "step:success", runId, step: name, attempt: state.attempt, outputs: hit.outputs, cached: true, at: Date.now() });
      ctx.finishStep(state, "cached", undefined, true);
      return undefined;
    }
    if (!(await preExecuteAllows(ctx.options.hooks, { runId, step: name, attempt, parameters: state.resolvedOptions }))) {
      ctx.skip(state, "preExecute returned false", true);
      ctx.checkDone();
      return undefined;
    }
    spend(state, attempt);
    // The attempt directory is made while the attempt-planned line is fsynced: both must be done
    // before submission and neither needs the other (a mkdir less on the dispatch path).
    const attemptDirReady = store.attemptDir(runId, name, attempt);
    attemptDirReady.catch(() => undefined); // awaited below; this only keeps an early throw from leaving it unhandled
    const secretEnv = environment.secrets(secretNamesOf(state.resolvedOptions));
    ctx.journal.learnSecrets({ env, secretEnv });
    const spec = attemptSpec({ runId, planned: state.planned, queue: state.queue, attempt, argv: resolved.command.argv, env, secretEnv, attemptDir: "", inputFiles: resolved.inputFiles });
    const [attemptDir] = await Promise.all([
      attemptDirReady,
      ctx.journal.append({
        type: "attempt-planned",
        at: Date.now(),
        step: name,
        attempt,
        jobName: spec.jobName,
        argv: [...spec.argv],
        // Task `env` values under secret-looking names are recorded as "***" (the job gets them).
        parameters: redactOptions(state.resolvedOptions),
        queue: spec.queue,
        ...(state.cacheKey ? { cacheKey: state.cacheKey } : {}),
      }),
    ]);
    state.spec = { ...spec, attemptDir };
    state.result.attemptDir = attemptDir;
    return state;
  } catch (error) {
    // Launch-time errors (a placeholder with nothing to point at) are not retried: they would
    // fail again. The journal records them as the end of the attempt that could not launch.
    spend(state, attempt);
    const reason = ctx.journal.scrub((error as Error).message);
    await ctx.journal.append({ type: "attempt-finished", at: Date.now(), step: name, attempt, status: "failed", exitCode: null, infrastructure: false, reason });
    ctx.emit({ type: "step:failure", runId, step: name, attempt, reason, exitCode: null, willRetry: false, at: Date.now() });
    stepFailed(ctx, state, null, reason, false);
    return undefined;
  }
}

function spend(state: StepState, attempt: number): void {
  state.attempt = attempt;
  state.result.attempts = attempt;
}

/**
 * Readiness: a step is ready once every parent has succeeded (or failed with `continueOnFail`);
 * a step that ends otherwise skips its pending descendants. Ready steps are batched by the
 * controller (one submission per tick).
 *
 * @module
 */
import type { RunContext, StepState } from "./run-context.js";
import type { StepPhase } from "./step-state.js";

/** Ends a step; `releaseChildren` lets its children run (success, or continueOnFail), else they are skipped. */
export function finishStep(ctx: RunContext, state: StepState, status: StepPhase, reason?: string, releaseChildren = false): void {
  ctx.setPhase(state, status);
  if (reason !== undefined && status !== "succeeded") state.result.reason = reason;
  if (releaseChildren) releaseChildrenOf(ctx, state, !ctx.aborted());
  else for (const child of state.planned.children) skipStep(ctx, ctx.steps.get(child)!, `parent "${state.name}" ${state.result.status}`);
  ctx.checkDone();
}

/** Its children wait for one parent less; with `schedule`, those waiting for none become ready. */
export function releaseChildrenOf(ctx: RunContext, state: StepState, schedule: boolean): void {
  for (const child of state.planned.children) {
    const childState = ctx.steps.get(child)!;
    childState.waitingParents -= 1;
    if (schedule && childState.waitingParents === 0 && childState.phase === "pending") ctx.markReady(childState);
  }
}

/** Skips a pending step (or, `fromPreparing`, one its preExecute hook declined) and its descendants. */
export function skipStep(ctx: RunContext, state: StepState, reason: string, fromPreparing = false): void {
  if (state.phase !== "pending" && !(fromPreparing && state.phase === "preparing")) return;
  ctx.setPhase(state, "skipped");
  state.result.reason = reason;
  const name = state.name;
  void ctx.journal.appendTracked({ type: "step-skipped", at: Date.now(), step: name, reason });
  ctx.emit({ type: "step:skipped", runId: ctx.options.runId, step: name, reason, at: Date.now() });
  for (const child of state.planned.children) skipStep(ctx, ctx.steps.get(child)!, `ancestor "${name}" did not succeed`);
}

/**
 * Readiness: a step is ready once every parent has succeeded (or failed with `continueOnFail`);
 * a step that ends otherwise skips its pending descendants. Ready steps are batched by the
 * controller (one submission per tick).
 *
 * @module
 */
import { isMapOf } from "./map-settle.js";
import type { RunContext, StepState } from "./run-context.js";
import type { StepPhase } from "./step-state.js";

/** Ends a step; `releaseChildren` lets its children run (success, or continueOnFail), else they are skipped. */
export function finishStep(ctx: RunContext, state: StepState, status: StepPhase, reason?: string, releaseChildren = false): void {
  ctx.setPhase(state, status);
  ctx.releaseHeld(); // a slot of its map's or queue's maxParallel is free
  if (reason !== undefined && status !== "succeeded") state.result.reason = reason;
  if (releaseChildren) releaseChildrenOf(ctx, state, !ctx.aborted());
  else {
    for (const child of state.planned.children) {
      const childState = ctx.steps.get(child)!;
      // An element's end, whatever it is, counts for its map (map-settle.ts); other children skip.
      if (isMapOf(state, childState)) release(ctx, childState, true);
      else skipStep(ctx, childState, `parent "${state.name}" ${state.result.status}`);
    }
  }
  ctx.checkDone();
}

/** Its children wait for one parent less; with `schedule`, those waiting for none become ready. */
export function releaseChildrenOf(ctx: RunContext, state: StepState, schedule: boolean): void {
  for (const child of state.planned.children) release(ctx, ctx.steps.get(child)!, schedule);
}

function release(ctx: RunContext, child: StepState, schedule: boolean): void {
  child.waitingParents -= 1;
  // A map step that became "ready" settles at once (the controller's markReady): it runs no job.
  if (schedule && child.waitingParents === 0 && child.phase === "pending") ctx.markReady(child);
}

/** Skips a pending step (or, `fromPreparing`, one its preExecute hook declined) and its descendants. */
export function skipStep(ctx: RunContext, state: StepState, reason: string, fromPreparing = false): void {
  if (state.phase !== "pending" && !(fromPreparing && state.phase === "preparing")) return;
  ctx.setPhase(state, "skipped");
  state.result.reason = reason;
  const name = state.name;
  void ctx.journal.appendTracked({ type: "step-skipped", at: Date.now(), step: name, reason });
  ctx.emit({ type: "step:skipped", runId: ctx.options.runId, step: name, reason, at: Date.now() });
  for (const child of state.planned.children) {
    const childState = ctx.steps.get(child)!;
    if (isMapOf(state, childState)) release(ctx, childState, !ctx.aborted());
    else skipStep(ctx, childState, `ancestor "${name}" did not succeed`);
  }
}

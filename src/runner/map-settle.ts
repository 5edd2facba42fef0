/**
 * Settling a map step. Its elements are steps of their own; the map step runs no job and waits
 * for every element to be final — succeeded, cached, failed, skipped or cancelled alike (an
 * element's failure does not skip its map). Then it succeeds when at least `required` elements
 * succeeded (`minSuccess`), is skipped when every element was, and fails otherwise, naming the
 * elements that fell short. `map-finished` records the outcome in the journal.
 *
 * @module
 */
import type { ElementView } from "./resolve-elements.js";
import type { RunContext, StepState } from "./run-context.js";

/** True when `child` is the map step that `parent` is an element of. */
export function isMapOf(parent: StepState, child: StepState): boolean {
  return parent.planned.element?.map === child.name;
}

/** The elements of a map step (in order) and how they stand. */
export function elementStates(ctx: RunContext, map: StepState): StepState[] {
  return (map.planned.map?.elements ?? []).map((e) => ctx.steps.get(e.key)!);
}

/** The elements of map step `map` as placeholders see them; `undefined` when it is not a map. */
export function elementViews(steps: ReadonlyMap<string, StepState>, map: string): ElementView[] | undefined {
  const planned = steps.get(map)?.planned.map;
  if (!planned) return undefined;
  return planned.elements.map((element) => {
    const state = steps.get(element.key)!;
    const { status, reason, outputs } = state.result;
    return { element, status, ...(reason !== undefined ? { reason } : {}), ...(outputs ? { outputs } : {}) };
  });
}

/** How a map's elements ended, for its result and the journal. */
function tally(elements: readonly StepState[]) {
  const succeeded = elements.filter((s) => s.phase === "succeeded" || s.phase === "cached");
  const short = elements.filter((s) => s.phase !== "succeeded" && s.phase !== "cached");
  return { succeeded, short };
}

/** Settles `map` (every element final); see the module comment. */
export function settleMap(ctx: RunContext, map: StepState): void {
  const planned = map.planned.map!;
  const elements = elementStates(ctx, map);
  const { succeeded, short } = tally(elements);
  const labelOf = (s: StepState) => s.planned.element?.label ?? s.name;
  const failed = short.map((s) => `${labelOf(s)} ${s.phase}${s.result.reason ? ` (${s.result.reason})` : ""}`);
  map.result.elements = { total: elements.length, required: planned.required, succeeded: succeeded.length, missing: short.map((s) => s.name) };
  const shortText = failed.length > 3 ? `${failed.slice(0, 3).join("; ")}; and ${failed.length - 3} more` : failed.join("; ");
  let status: "succeeded" | "failed" | "skipped" | "cancelled";
  let reason: string | undefined;
  if (succeeded.length >= planned.required) {
    status = "succeeded";
    if (short.length > 0) reason = `${succeeded.length} of ${elements.length} elements succeeded (at least ${planned.required} needed); missing: ${shortText}`;
  } else if (ctx.aborted()) {
    status = "cancelled";
    reason = ctx.cancelReason();
  } else if (short.every((s) => s.phase === "skipped")) {
    status = "skipped";
    reason = short[0]?.result.reason ?? "every element was skipped";
  } else {
    status = "failed";
    reason = `${succeeded.length} of ${elements.length} elements succeeded, ${planned.required} needed: ${shortText}`;
  }
  const at = Date.now();
  void ctx.journal.appendTracked({
    type: "map-finished",
    at,
    step: map.name,
    status,
    total: elements.length,
    required: planned.required,
    succeeded: succeeded.length,
    missing: short.map((s) => s.name),
    ...(reason ? { reason } : {}),
  });
  ctx.emit({ type: "map:settled", runId: ctx.options.runId, step: map.name, status, total: elements.length, succeeded: succeeded.length, ...(reason ? { reason } : {}), at });
  if (status === "skipped") {
    ctx.skip(map, reason!);
    ctx.checkDone();
    return;
  }
  if (status === "succeeded") {
    ctx.finishStep(map, "succeeded", undefined, true);
    if (reason) map.result.reason = reason;
    return;
  }
  // continueOnFail on a map step: what consumes it runs with what the map has (its gaps explicit).
  ctx.finishStep(map, status, reason, status === "failed" && map.planned.spec.continueOnFail === true);
}

/**
 * What a run's placeholders see: its parameters, its finished steps' outputs and resolved
 * options, and its map steps' elements.
 *
 * @module
 */
import { elementViews } from "./map-settle.js";
import type { ResolutionScope } from "./resolve-step.js";
import type { RunControllerOptions, StepState } from "./run-context.js";

/** The resolution scope of a run whose steps stand as in `steps`. */
export function scopeOf(steps: ReadonlyMap<string, StepState>, options: Pick<RunControllerOptions, "runId" | "plan" | "parameters">): ResolutionScope {
  const { runId, plan, parameters } = options;
  return {
    runId,
    spec: plan.spec,
    parameters: parameters ?? {},
    outputs: (s) => steps.get(s)?.result.outputs,
    resolvedOptions: (s) => steps.get(s)?.resolvedOptions,
    elements: (map) => elementViews(steps, map),
  };
}

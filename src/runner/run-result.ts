/**
 * A run's status and result, derived from its steps' states.
 *
 * @module
 */

import type { PipelinePlan } from "../pipeline/validate.js";
import type { Store } from "../store/store.js";
import type { StepState } from "./run-context.js";
import type { RunResult, RunStatus, StepResult } from "./run-types.js";

/**
 * The status of a finished run: failed on a run-level failure, cancelled when aborted, else
 * succeeded when every step succeeded, was cached or skipped, or failed with `continueOnFail`. A
 * skip is not a failure of its own: it follows a failed ancestor (which fails the run) or a
 * preExecute hook that chose to skip (which must not).
 */
export function runStatusOf(steps: ReadonlyMap<string, StepState>, run: { fatal: boolean; aborted: boolean }): RunStatus {
  if (run.fatal) return "failed";
  if (run.aborted) return "cancelled";
  for (const s of steps.values()) {
    const ok = s.phase === "succeeded" || s.phase === "cached" || s.phase === "skipped" || (s.phase === "failed" && s.planned.spec.continueOnFail === true);
    // An element's failure is its map's to judge (minSuccess): the map's status counts instead.
    const judgedByMap = s.planned.element !== undefined && steps.get(s.planned.element.map)?.phase !== undefined;
    if (!ok && !judgedByMap) return "failed";
  }
  return "succeeded";
}

/** What a run resolves with. */
export function runResultOf(
  steps: ReadonlyMap<string, StepState>,
  run: { runId: string; plan: PipelinePlan; store: Store; status: RunStatus; startedAt: number; reason: string | undefined },
): RunResult {
  const results: Record<string, StepResult> = {};
  const models: RunResult["models"] = [];
  const metrics: RunResult["metrics"] = {};
  let simulated = false;
  for (const [name, state] of steps) {
    results[name] = { ...state.result };
    const outputs = state.result.outputs;
    if (outputs) {
      models.push(...outputs.models.map((m) => ({ ...m, step: name })));
      if (Object.keys(outputs.metrics).length > 0) metrics[name] = outputs.metrics;
      simulated ||= outputs.simulated;
    }
  }
  const spec = run.plan.spec;
  return {
    runId: run.runId,
    projectName: spec.projectName,
    pipelineName: spec.pipelineName,
    status: run.status,
    steps: results,
    models,
    metrics,
    simulated,
    startedAt: run.startedAt,
    endedAt: Date.now(),
    store: run.store.location,
    ...(run.reason !== undefined ? { reason: run.reason } : {}),
  };
}

/**
 * What to type next after a failure, printed by `run`, `resume`, `wait`, `watch` and `status`
 * when a step failed: `gpu-dag logs <run> <step> --stderr` for the steps whose job failed (a
 * few of them), and `gpu-dag resume <run>` once the run has ended failed or cancelled.
 *
 * @module
 */
import { shellQuote } from "../args/shell-quote.js";
import type { StepResult } from "../runner/run-types.js";

/** Failed steps named one by one; beyond that, `status` lists them. */
const MAX_LOG_HINTS = 3;

/** What {@link failureHints} needs of a run (a `RunResult`, or a view's state and steps). */
export interface HintedRun {
  runId: string;
  /** The run's (display) state: `failed`, `cancelled`, `running`, … */
  state: string;
  steps: Readonly<Record<string, Pick<StepResult, "name" | "status" | "jobId">>>;
}

/** The hint lines (none when nothing failed). */
export function failureHints(run: HintedRun): string[] {
  const id = shellQuote(run.runId);
  const failed = Object.values(run.steps).filter((s) => s.status === "failed");
  const withJob = failed.filter((s) => s.jobId !== undefined);
  const hints = withJob.slice(0, MAX_LOG_HINTS).map((s) => `hint: why ${s.name} failed: gpu-dag logs ${id} ${shellQuote(s.name)} --stderr`);
  if (withJob.length > MAX_LOG_HINTS) hints.push(`hint: ${withJob.length - MAX_LOG_HINTS} more failed steps: gpu-dag status ${id}`);
  if ((failed.length > 0 && run.state === "failed") || run.state === "cancelled") {
    hints.push(`hint: once the cause is fixed, rerun what did not succeed (done steps are kept): gpu-dag resume ${id}`);
  }
  return hints;
}

/** {@link failureHints} of a view as the read commands load it. */
export function viewHints(view: { state: string; result: { runId: string; steps: HintedRun["steps"] } }): string[] {
  return failureHints({ runId: view.result.runId, state: view.state, steps: view.result.steps });
}

/**
 * Metric history: every value a run's steps reported for each metric (`gpu-dag metrics`). A
 * metric reported once is a series of one point.
 *
 * @module
 */
import { RefError } from "../errors.js";
import type { MetricPoint } from "../store/records.js";
import type { Store } from "../store/store.js";
import { metricHistory } from "./metric-values.js";
import { matchSteps, resolveRun } from "./refs.js";
import { runSummaries } from "./run-summaries.js";
import { hasOutputs, loadRunResults } from "./step-results.js";

/** One metric of one step. */
export interface MetricSeries {
  step: string;
  metric: string;
  /** The value `compare` and reports use: the last point. */
  last: number;
  points: MetricPoint[];
}

/** The metrics of run `runRef` (of `step`, or a map step's elements; only `metric` when given). */
export async function metricSeries(store: Store, runRef: string, options: { step?: string; metric?: string } = {}): Promise<{ runId: string; series: MetricSeries[] }> {
  const run = resolveRun(await runSummaries(store), runRef);
  const names = options.step !== undefined ? matchSteps(run, options.step) : undefined;
  if (names && names.length === 0)
    throw new RefError(`${runRef}:${options.step}`, `run ${run.id} has no step "${options.step}" that ended (steps: ${Object.keys(run.steps).join(", ") || "none yet"})`);
  const series: MetricSeries[] = [];
  for (const step of (await loadRunResults(store, run.id)).steps.filter(hasOutputs)) {
    if (names && !names.includes(step.step)) continue;
    const metricNames = [...new Set([...Object.keys(step.outputs.metrics), ...Object.keys(step.outputs.series ?? {})])].sort();
    for (const metric of metricNames) {
      if (options.metric !== undefined && metric !== options.metric) continue;
      const points = metricHistory(step.outputs, metric);
      const last = step.outputs.metrics[metric] ?? points[points.length - 1]?.value;
      if (last !== undefined) series.push({ step: step.step, metric, last, points });
    }
  }
  if (options.metric !== undefined && series.length === 0) throw new RefError(options.metric, `run ${run.id} has no metric "${options.metric}"${options.step ? ` in step ${options.step}` : ""}`);
  return { runId: run.id, series };
}

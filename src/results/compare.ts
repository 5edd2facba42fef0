/**
 * Comparing runs, steps and models side by side: the parameters that differ, and every metric
 * (rows) of every ref (columns), with each column's difference to the first.
 *
 * A run's metrics follow `run-metrics.ts` (bare names where one step reports them); a step's (a
 * map step: its elements') and a model's (every evaluation measured on it) are the mean over the
 * evaluations that report each metric. Series give their last value unless `reduce` says otherwise.
 *
 * @module
 */
import type { ModelRecord } from "../store/records.js";
import type { RunSummary, Scalar } from "../store/run-summary.js";
import type { Store } from "../store/store.js";
import { type MetricReduction, metricValues } from "./metric-values.js";
import { flattenMetrics, mean } from "./run-metrics.js";
import { runSummaries } from "./run-summaries.js";
import { resolveSource, type Source, uniqueLabels } from "./sources.js";

/** One column: a resolved ref. */
export interface ComparedRef {
  ref: string;
  kind: Source["kind"];
  label: string;
  /** The run id, for run and step refs; the model id for a store model. */
  id?: string;
  /** How many evaluations its metrics come from. */
  evaluations: number;
}

/** The comparison. */
export interface Comparison {
  refs: ComparedRef[];
  /** Parameters whose values differ between refs (all of them with `allParams`). */
  params: Array<{ name: string; values: Array<Scalar | undefined> }>;
  /** Every metric any ref has; `deltas[i]` = `values[i] − values[0]` (undefined when either is missing). */
  metrics: Array<{ name: string; values: Array<number | undefined>; deltas: Array<number | undefined> }>;
  reduce: MetricReduction;
}

/** Options of {@link compareRefs}. */
export interface CompareOptions {
  /** How a metric series becomes one value (default `last`). */
  reduce?: MetricReduction;
  /** List every parameter, not only those that differ. */
  allParams?: boolean;
  /** Summaries and models already read (default: read from the store). */
  summaries?: readonly RunSummary[];
  models?: readonly ModelRecord[];
}

/** Compares `refs` (two or more; each a run, `run:step` or model ref). */
export async function compareRefs(store: Store, refs: readonly string[], options: CompareOptions = {}): Promise<Comparison> {
  const reduce = options.reduce ?? "last";
  const context = { store, summaries: options.summaries ?? (await runSummaries(store)), models: options.models ?? (await store.listModels()) };
  const sources: Source[] = [];
  for (const ref of refs) sources.push(await resolveSource(context, ref));
  const metricsOf = sources.map((s) => sourceMetrics(s, reduce));

  const paramNames = [...new Set(sources.flatMap((s) => Object.keys(s.params)))].sort();
  const params = paramNames
    .map((name) => ({ name, values: sources.map((s) => s.params[name]) }))
    .filter((p) => options.allParams || new Set(p.values.map((v) => (v === undefined ? "\u0000" : String(v)))).size > 1);

  const metricNames = [...new Set(metricsOf.flatMap((m) => [...m.keys()]))].sort();
  const metrics = metricNames.map((name) => {
    const values = metricsOf.map((m) => m.get(name));
    const first = values[0];
    return { name, values, deltas: values.map((v) => (v === undefined || first === undefined ? undefined : v - first)) };
  });
  const labels = uniqueLabels(sources);
  return {
    refs: sources.map((s, i) => ({ ref: s.ref, kind: s.kind, label: labels[i]!, ...(s.run ? { id: s.run.id } : s.model ? { id: s.model.id } : {}), evaluations: s.evaluations.length })),
    params,
    metrics,
    reduce,
  };
}

/** One value per metric name for a source (see the module comment). */
export function sourceMetrics(source: Source, reduce: MetricReduction): Map<string, number> {
  const perStep = source.evaluations.map((e) => [e.step, metricValues(e.outputs, reduce)] as const);
  if (source.kind === "run" && !source.runs) return flattenMetrics(perStep);
  // Pooled runs: each run's metrics named as for one run, then averaged over the runs.
  const groups = source.runs
    ? source.runs.map((run) => flattenMetrics(source.evaluations.filter((e) => e.runId === run.id).map((e) => [e.step, metricValues(e.outputs, reduce)] as const)))
    : perStep.map(([, metrics]) => new Map(Object.entries(metrics)));
  const byName = new Map<string, number[]>();
  for (const metrics of groups) for (const [name, value] of metrics) byName.set(name, [...(byName.get(name) ?? []), value]);
  return new Map([...byName].map(([name, values]) => [name, mean(values)]));
}

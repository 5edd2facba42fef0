/**
 * A run's metrics under one name each. A metric reported by one step is known by its own name
 * (`openllm/acc`); one reported by the elements of one map step (`eval[0]`, `eval[1]`, …) by its
 * name too, with the elements' mean; one reported by several other steps only as `step:name`.
 * Every metric is also reachable as `step:name`.
 *
 * @module
 */
import type { IndexedStep, RunSummary } from "../store/run-summary.js";
import { baseStep } from "./refs.js";

/** Steps that ended with outputs (succeeded or cached), in the order they ended. */
export function stepsWithOutputs(summary: RunSummary): Array<[string, IndexedStep]> {
  return Object.entries(summary.steps)
    .filter(([, s]) => (s.status === "succeeded" || s.status === "cached") && s.metrics !== undefined)
    .sort((a, b) => a[1].at - b[1].at);
}

/** See the module comment: name → value, bare names where they are unambiguous. */
export function runMetrics(summary: RunSummary): Map<string, number> {
  return flattenMetrics(stepsWithOutputs(summary).map(([step, s]) => [step, s.metrics ?? {}]));
}

/** The naming rule of the module comment over `[step, metrics]` pairs (in the order the steps ended). */
export function flattenMetrics(steps: ReadonlyArray<readonly [string, Readonly<Record<string, number>>]>): Map<string, number> {
  const byName = new Map<string, Array<[string, number]>>();
  for (const [step, metrics] of steps) {
    for (const [name, value] of Object.entries(metrics)) {
      const list = byName.get(name) ?? [];
      list.push([step, value]);
      byName.set(name, list);
    }
  }
  const out = new Map<string, number>();
  for (const [name, reports] of [...byName].sort((a, b) => a[0].localeCompare(b[0]))) {
    if (reports.length === 1) out.set(name, reports[0]![1]);
    else if (new Set(reports.map(([step]) => baseStep(step))).size === 1 && reports.every(([step]) => step !== baseStep(step))) out.set(name, mean(reports.map(([, v]) => v)));
    else for (const [step, value] of reports) out.set(`${step}:${name}`, value);
  }
  return out;
}

/**
 * The value of metric `key` in a run: `step:name` (a map step's name: its elements' mean), or a
 * bare name (one step's value, a map's mean, else the step that ended last).
 */
export function metricOf(summary: RunSummary, key: string): number | undefined {
  const colon = key.indexOf(":");
  if (colon > 0) {
    const step = key.slice(0, colon);
    const name = key.slice(colon + 1);
    const own = summary.steps[step]?.metrics?.[name];
    if (own !== undefined) return own;
    const elements = stepsWithOutputs(summary).filter(([n]) => baseStep(n) === step && n !== step);
    const values = elements.flatMap(([, s]) => (s.metrics?.[name] !== undefined ? [s.metrics[name]] : []));
    return values.length > 0 ? mean(values) : undefined;
  }
  // A bare name, without building the whole map (the run table asks this of every run).
  const reports: Array<[string, number, number]> = [];
  for (const [step, s] of Object.entries(summary.steps)) {
    const value = s.metrics?.[key];
    if (value !== undefined && (s.status === "succeeded" || s.status === "cached")) reports.push([step, value, s.at]);
  }
  if (reports.length <= 1) return reports[0]?.[1];
  const base = baseStep(reports[0]![0]);
  if (reports.every(([step]) => step !== baseStep(step) && baseStep(step) === base)) return mean(reports.map(([, v]) => v));
  return reports.reduce((last, r) => (r[2] >= last[2] ? r : last))[1];
}

/** Arithmetic mean (NaN for none). */
export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

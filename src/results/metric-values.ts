/**
 * A step's metric values, and metric history. A metric a job reported more than once has a series
 * (`outputs.series`); its value is the last point unless another reduction is asked for.
 *
 * @module
 */
import { QueryError } from "../errors.js";
import type { MetricPoint, StepOutputs } from "../store/records.js";

/** How a series becomes one value. */
export const METRIC_REDUCTIONS = ["last", "first", "min", "max", "mean"] as const;
/** One of {@link METRIC_REDUCTIONS}. */
export type MetricReduction = (typeof METRIC_REDUCTIONS)[number];

/** `text` as a reduction (throws {@link QueryError} naming `option`). */
export function parseReduction(text: string | undefined, option = "--reduce"): MetricReduction {
  if (text === undefined) return "last";
  if ((METRIC_REDUCTIONS as readonly string[]).includes(text)) return text as MetricReduction;
  throw new QueryError(option, `${option} ${JSON.stringify(text)}: expected one of ${METRIC_REDUCTIONS.join(", ")}`);
}

/** Every metric of `outputs` as one value: series reduced with `reduce`, others as recorded. */
export function metricValues(outputs: Pick<StepOutputs, "metrics" | "series">, reduce: MetricReduction = "last"): Record<string, number> {
  const values: Record<string, number> = { ...outputs.metrics };
  if (reduce === "last") return values;
  for (const [name, points] of Object.entries(outputs.series ?? {})) {
    const reduced = reduceSeries(points, reduce);
    if (reduced !== undefined) values[name] = reduced;
  }
  return values;
}

/** One value from a series (`undefined` when it is empty). */
export function reduceSeries(points: readonly MetricPoint[], reduce: MetricReduction): number | undefined {
  if (points.length === 0) return undefined;
  const values = points.map((p) => p.value);
  switch (reduce) {
    case "last":
      return values[values.length - 1];
    case "first":
      return values[0];
    case "min":
      return Math.min(...values);
    case "max":
      return Math.max(...values);
    case "mean":
      return values.reduce((a, b) => a + b, 0) / values.length;
  }
}

/** A metric's history in one step: its series, or its one value as a series of one point. */
export function metricHistory(outputs: Pick<StepOutputs, "metrics" | "series">, name: string): MetricPoint[] {
  const series = outputs.series?.[name];
  if (series && series.length > 0) return series;
  const value = outputs.metrics[name];
  return value === undefined ? [] : [{ iteration: 0, value }];
}

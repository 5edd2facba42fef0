/**
 * `gpu-dag compare <ref> <ref>…` (parameters that differ; metrics side by side with the difference
 * to the first column) and `gpu-dag metrics <run> [step]` (a run's metrics, or their history).
 *
 * @module
 */
import type { Comparison } from "../../results/compare.js";
import { CliUsageError, ExitCode } from "../cli-error.js";
import { type CliContext, openStore, out, printJson } from "../context.js";
import { formatTable } from "../format.js";

/** Options of `compare`. */
export interface CompareCommandOptions {
  allParams?: boolean;
  reduce: string;
  json?: boolean;
  csv?: boolean;
  markdown?: boolean;
}

/** `gpu-dag compare`. */
export async function compareCommand(context: CliContext, refs: string[], options: CompareCommandOptions): Promise<number> {
  if (refs.length < 2) throw new CliUsageError("compare needs at least two refs (runs, run:step, or models)");
  if ([options.json, options.csv, options.markdown].filter(Boolean).length > 1) throw new CliUsageError("give one of --json, --csv, --markdown");
  const [{ compareRefs }, { parseReduction }] = await Promise.all([import("../../results/compare.js"), import("../../results/metric-values.js")]);
  const store = await openStore(context);
  try {
    const comparison = await compareRefs(store, refs, { reduce: parseReduction(options.reduce), ...(options.allParams ? { allParams: true } : {}) });
    if (options.json) printJson({ store: context.home, ...comparison });
    else out(await formatComparison(comparison, options.csv ? "csv" : options.markdown ? "markdown" : "text"));
    return ExitCode.Ok;
  } finally {
    await store.close();
  }
}

/** The comparison as text, CSV or markdown: a parameters table (when any differ), then the metrics table. */
export async function formatComparison(c: Comparison, format: "text" | "csv" | "markdown"): Promise<string> {
  const { csvLine, formatNumber, markdownTable } = await import("../../results/render.js");
  const labels = c.refs.map((r) => r.label);
  const metricHeader = ["metric", ...labels.flatMap((l, i) => (i === 0 ? [l] : [l, `Δ ${l}`]))];
  const metricRows = c.metrics.map((m) => [m.name, ...m.values.flatMap((v, i) => (i === 0 ? [formatNumber(v)] : [formatNumber(v), formatNumber(m.deltas[i], { signed: true })]))]);
  const paramRows = c.params.map((p) => [p.name, ...p.values.map((v) => (v === undefined ? "-" : String(v)))]);
  if (format === "csv") {
    const raw = (v: number | undefined) => (v === undefined ? "" : String(v));
    let text = csvLine(["kind", "name", ...labels.flatMap((l, i) => (i === 0 ? [l] : [l, `delta ${l}`]))]);
    for (const p of c.params) text += csvLine(["param", p.name, ...p.values.flatMap((v, i) => (i === 0 ? [v === undefined ? "" : String(v)] : [v === undefined ? "" : String(v), ""]))]);
    for (const m of c.metrics) text += csvLine(["metric", m.name, ...m.values.flatMap((v, i) => (i === 0 ? [raw(v)] : [raw(v), raw(m.deltas[i])]))]);
    return text;
  }
  if (format === "markdown") {
    const parts = [];
    if (paramRows.length) parts.push(markdownTable(["parameter", ...labels], paramRows));
    parts.push(metricRows.length ? markdownTable(metricHeader, metricRows) : "_no metrics_\n");
    return parts.join("\n");
  }
  const refsLine = c.refs.map((r) => `${r.label} (${r.kind}${r.id && r.id !== r.label ? ` ${r.id}` : ""}, ${r.evaluations} evaluation${r.evaluations === 1 ? "" : "s"})`).join("  vs  ");
  const parts = [`${refsLine}\n`];
  parts.push(paramRows.length ? `\nparameters that differ:\n${formatTable(["PARAMETER", ...labels], paramRows)}` : "\nno parameter differs\n");
  parts.push(
    metricRows.length
      ? `\nmetrics${c.reduce !== "last" ? ` (series: ${c.reduce})` : ""}:\n${formatTable(
          metricHeader.map((h, i) => (i === 0 ? "METRIC" : h)),
          metricRows,
        )}`
      : "\nno metrics\n",
  );
  return parts.join("");
}

/** Options of `metrics`. */
export interface MetricsCommandOptions {
  metric?: string;
  history?: boolean;
  json?: boolean;
}

/** `gpu-dag metrics <run> [step]`. */
export async function metricsCommand(context: CliContext, runRef: string, step: string | undefined, options: MetricsCommandOptions): Promise<number> {
  const { metricSeries } = await import("../../results/history.js");
  const { formatNumber } = await import("../../results/render.js");
  const store = await openStore(context);
  try {
    const { runId, series } = await metricSeries(store, runRef, { ...(step !== undefined ? { step } : {}), ...(options.metric !== undefined ? { metric: options.metric } : {}) });
    if (options.json) printJson({ store: context.home, runId, metrics: options.history ? series : series.map(({ points, ...rest }) => ({ ...rest, points: points.length })) });
    else if (series.length === 0) out(`run ${runId} has no metrics${step ? ` in step ${step}` : ""}\n`);
    else if (options.history)
      out(
        formatTable(
          ["STEP", "METRIC", "ITERATION", "VALUE"],
          series.flatMap((s) => s.points.map((p) => [s.step, s.metric, formatNumber(p.iteration), formatNumber(p.value)])),
        ),
      );
    else
      out(
        formatTable(
          ["STEP", "METRIC", "VALUE", "POINTS"],
          series.map((s) => [s.step, s.metric, formatNumber(s.last), String(s.points.length)]),
        ),
      );
    return ExitCode.Ok;
  } finally {
    await store.close();
  }
}

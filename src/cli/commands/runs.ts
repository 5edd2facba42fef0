/**
 * `gpu-dag runs`: the experiment table — every run (newest first) with its name, pipeline,
 * status, steps, parameters and chosen metrics; filtered, sorted, as text, JSON or CSV.
 *
 * It reads the store's run index (one file, whatever the number of runs). Only runs the index
 * has as not finished are looked at further: their lock (a live controller, or `interrupted`) and,
 * for a controller on a cluster, the mirrored journal — whose news goes back into the index.
 *
 * @module
 */
import type { RunRow } from "../../results/run-query.js";
import type { RunSummary } from "../../store/run-summary.js";
import { CliUsageError, ExitCode } from "../cli-error.js";
import { coloursFor, paintState } from "../colour.js";
import { type CliContext, openStore, out, printJson } from "../context.js";
import { formatDuration, formatTable, formatTime } from "../format.js";
import { loadRunView } from "../run-view.js";

/** Options of `runs`. */
export interface RunsOptions {
  json?: boolean;
  csv?: boolean;
  pipeline?: string;
  tag: string[];
  status: string[];
  where: string[];
  since?: string;
  name?: string;
  metric: string[];
  sort?: string;
  limit?: string;
  /** `all`: every parameter as a column (default: those that differ between the listed runs). */
  params?: string;
}

/** See the module comment. */
export async function runsCommand(context: CliContext, options: RunsOptions): Promise<number> {
  const [{ runSummaries, refreshSummary }, { queryRuns }, { isFinalStatus }] = await Promise.all([
    import("../../results/run-summaries.js"),
    import("../../results/run-query.js"),
    import("../../store/run-summary.js"),
  ]);
  const store = await openStore(context);
  try {
    const summaries = await runSummaries(store);
    // Runs not finished in the index: what their lock and journal say now.
    const states = new Map<string, string>();
    for (const [i, summary] of summaries.entries()) {
      if (isFinalStatus(summary.status)) continue;
      const view = await loadRunView(store, summary.id).catch(() => undefined);
      if (!view) continue;
      states.set(summary.id, view.state);
      if (view.result.status !== summary.status) summaries[i] = await refreshSummary(store, summary.id);
    }
    const { parseList } = await import("../list-options.js");
    const metrics = parseList(options.metric);
    const rows = queryRuns(
      summaries,
      {
        ...(options.pipeline !== undefined ? { pipeline: options.pipeline } : {}),
        tags: parseList(options.tag),
        status: parseList(options.status),
        where: options.where,
        ...(options.since !== undefined ? { since: options.since } : {}),
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.sort !== undefined ? { sort: options.sort } : {}),
        ...(options.limit !== undefined ? { limit: positiveInteger("--limit", options.limit) } : {}),
        metrics,
      },
      { stateOf: (s) => states.get(s.id) ?? s.status },
    );
    if (options.json) {
      printJson({ store: context.home, runs: rows.map((row) => runDocument(row)) });
      return ExitCode.Ok;
    }
    const paramNames = paramColumns(rows, options.params === "all");
    if (options.csv) {
      const { csvLine } = await import("../../results/render.js");
      let text = csvLine([
        "run",
        "name",
        "project",
        "pipeline",
        "status",
        "tags",
        "steps_done",
        "steps_total",
        "created",
        "duration_ms",
        ...paramNames.map((p) => `param.${p}`),
        ...metrics.map((m) => `metric.${m}`),
      ]);
      for (const row of rows) {
        const s = row.summary;
        const { done, total } = stepCounts(s);
        text += csvLine([
          s.id,
          s.name ?? "",
          s.projectName,
          s.pipelineName,
          row.state,
          s.tags.join(" "),
          String(done),
          String(total),
          s.createdAt,
          String(durationOf(s) ?? ""),
          ...paramNames.map((p) => (s.params[p] === undefined ? "" : String(s.params[p]))),
          ...metrics.map((m) => (row.metrics[m] === undefined ? "" : String(row.metrics[m]))),
        ]);
      }
      out(text);
      return ExitCode.Ok;
    }
    if (rows.length === 0) {
      out(summaries.length === 0 ? `no runs in ${context.home}\n` : `no runs match (${summaries.length} in ${context.home})\n`);
      return ExitCode.Ok;
    }
    const { formatNumber } = await import("../../results/render.js");
    const named = rows.some((r) => r.summary.name !== undefined);
    const tagged = rows.some((r) => r.summary.tags.length > 0);
    const header = [
      "RUN",
      ...(named ? ["NAME"] : []),
      "PIPELINE",
      "STATUS",
      "STEPS",
      "STARTED",
      "DURATION",
      ...(tagged ? ["TAGS"] : []),
      ...(paramNames.length ? ["PARAMS"] : []),
      ...metrics.map((m) => m.toUpperCase()),
    ];
    const statusColumn = named ? 3 : 2;
    const paint: Array<((cell: string) => string) | undefined> = [];
    paint[statusColumn] = (state) => paintState(coloursFor(process.stdout), state);
    out(
      formatTable(
        header,
        rows.map((row) => {
          const s = row.summary;
          const { done, total } = stepCounts(s);
          return [
            s.id,
            ...(named ? [s.name ?? "-"] : []),
            `${s.projectName}/${s.pipelineName}`,
            row.state,
            `${done}/${total}`,
            formatTime(s.startedAt ?? Date.parse(s.createdAt)),
            formatDuration(durationOf(s) ?? (s.startedAt !== undefined ? Date.now() - s.startedAt : undefined)),
            ...(tagged ? [s.tags.join(",") || "-"] : []),
            ...(paramNames.length ? [paramNames.map((p) => `${p}=${s.params[p] ?? "-"}`).join(" ")] : []),
            ...metrics.map((m) => formatNumber(row.metrics[m])),
          ];
        }),
        { paint },
      ),
    );
    return ExitCode.Ok;
  } finally {
    await store.close();
  }
}

/** One run in `runs --json`. */
function runDocument(row: RunRow): Record<string, unknown> {
  const s = row.summary;
  return {
    runId: s.id,
    ...(s.name !== undefined ? { name: s.name } : {}),
    tags: s.tags,
    projectName: s.projectName,
    pipelineName: s.pipelineName,
    status: row.state,
    cluster: s.cluster,
    mode: s.mode,
    steps: stepCounts(s),
    createdAt: s.createdAt,
    ...(s.startedAt !== undefined ? { startedAt: s.startedAt } : {}),
    ...(s.endedAt !== undefined ? { endedAt: s.endedAt } : {}),
    ...(durationOf(s) !== undefined ? { durationMs: durationOf(s) } : {}),
    ...(s.reason ? { reason: s.reason } : {}),
    params: s.params,
    metrics: row.metrics,
    ...(s.runAfter.length ? { runAfter: s.runAfter } : {}),
  };
}

/** Steps that ended well, and the steps there are (a map step's elements count as they end). */
function stepCounts(s: RunSummary): { done: number; total: number; failed: number; skipped: number; cancelled: number } {
  const ended = Object.entries(s.steps);
  const elements = ended.filter(([name]) => name.includes("[")).length;
  const count = (...states: string[]) => ended.filter(([, step]) => states.includes(step.status)).length;
  return { done: count("succeeded", "cached"), total: Math.max(s.stepCount + elements, ended.length), failed: count("failed", "lost"), skipped: count("skipped"), cancelled: count("cancelled") };
}

function durationOf(s: RunSummary): number | undefined {
  return s.startedAt !== undefined && s.endedAt !== undefined ? s.endedAt - s.startedAt : undefined;
}

/** Parameters to show: those whose values differ between the rows (all with `all`). */
function paramColumns(rows: readonly RunRow[], all: boolean): string[] {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.summary.params)))].sort();
  if (all) return names;
  return names.filter((name) => new Set(rows.map((r) => String(r.summary.params[name] ?? "\u0000"))).size > 1);
}

function positiveInteger(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new CliUsageError(`${option} ${JSON.stringify(text)}: expected a positive integer`);
  return n;
}

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
import type { queryRuns, RunRow } from "../../results/run-query.js";
import type { RunSummary } from "../../store/run-summary.js";
import { CliUsageError, ExitCode } from "../cli-error.js";
import { coloursFor, paintState } from "../colour.js";
import { type CliContext, openStore, out, printJson } from "../context.js";
import { formatDuration, formatTable, formatTime } from "../format.js";

/** Rows the text table shows when `--limit` is not given. */
const TEXT_LIMIT = 50;

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
  const [{ readRunSummaries }, { queryRuns }, { isFinalStatus }, { newestFirst }] = await Promise.all([
    import("../../store/run-index-reader.js"),
    import("../../results/run-query.js"),
    import("../../store/run-summary.js"),
    import("../../results/run-summaries.js"),
  ]);
  const summaries = (await readRunSummaries(context.home)).sort(newestFirst);
  // Runs not finished in the index: what their lock and journal say now (this loads the full store).
  const states = new Map<string, string>();
  /** Step counts of open runs as their journal has them now (running, queued, pending too). */
  const live = new Map<string, Record<string, number>>();
  const open = summaries.flatMap((s, i) => (isFinalStatus(s.status) ? [] : [i]));
  if (open.length > 0) {
    const [{ loadRunView }, { refreshSummary }] = await Promise.all([import("../run-view.js"), import("../../results/run-summaries.js")]);
    const store = await openStore(context);
    try {
      for (const i of open) {
        const summary = summaries[i]!;
        const view = await loadRunView(store, summary.id).catch(() => undefined);
        if (!view) continue;
        states.set(summary.id, view.state);
        live.set(summary.id, { ...view.counts });
        if (view.result.status !== summary.status) summaries[i] = await refreshSummary(store, summary.id);
      }
    } finally {
      await store.close();
    }
  }
  return printRuns(context, summaries, { states, live }, options, queryRuns);
}

/** Filters, sorts and prints the table (`query` is `queryRuns`, loaded by the caller). */
async function printRuns(
  context: CliContext,
  summaries: RunSummary[],
  { states, live }: { states: ReadonlyMap<string, string>; live: ReadonlyMap<string, Record<string, number>> },
  options: RunsOptions,
  query: typeof queryRuns,
): Promise<number> {
  const { parseList } = await import("../list-options.js");
  const metrics = parseList(options.metric);
  const limit = options.limit !== undefined ? count("--limit", options.limit) : undefined;
  const rows = query(
    summaries,
    {
      ...(options.pipeline !== undefined ? { pipeline: options.pipeline } : {}),
      tags: parseList(options.tag),
      status: parseList(options.status),
      where: options.where,
      ...(options.since !== undefined ? { since: options.since } : {}),
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.sort !== undefined ? { sort: options.sort } : {}),
      ...(limit !== undefined && limit > 0 ? { limit } : {}),
      metrics,
    },
    { stateOf: (s) => states.get(s.id) ?? s.status },
  );
  if (options.json) {
    printJson({ store: context.home, runs: rows.map((row) => runDocument(row, live.get(row.summary.id))) });
    return ExitCode.Ok;
  }
  if (options.csv) {
    const paramNames = paramColumns(rows, true);
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
  // A terminal table of thousands of rows helps nobody: the first TEXT_LIMIT unless --limit says otherwise.
  const hidden = limit === undefined && rows.length > TEXT_LIMIT ? rows.length - TEXT_LIMIT : 0;
  if (hidden > 0) rows.length = TEXT_LIMIT;
  const paramNames = paramColumns(rows, options.params === "all");
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
  const colours = coloursFor(process.stdout);
  const paint: Array<((cell: string) => string) | undefined> = [];
  paint[statusColumn] = (state) => paintState(colours, state);
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
  if (hidden > 0) out(`(${TEXT_LIMIT} of ${TEXT_LIMIT + hidden} runs shown: --limit N shows N, --limit 0 all; --json and --csv show all)\n`);
  return ExitCode.Ok;
}

/** One run in `runs --json`. */
function runDocument(row: RunRow, liveCounts: Record<string, number> | undefined): Record<string, unknown> {
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
    steps: liveCounts ?? stepCounts(s),
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
  const counts = { done: 0, total: 0, failed: 0, skipped: 0, cancelled: 0 };
  let ended = 0;
  let elements = 0;
  for (const name in s.steps) {
    ended++;
    if (name.includes("[")) elements++;
    const status = s.steps[name]!.status;
    if (status === "succeeded" || status === "cached") counts.done++;
    else if (status === "failed" || status === "lost") counts.failed++;
    else if (status === "skipped") counts.skipped++;
    else if (status === "cancelled") counts.cancelled++;
  }
  counts.total = Math.max(s.stepCount + elements, ended);
  return counts;
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

function count(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new CliUsageError(`${option} ${JSON.stringify(text)}: expected a number of runs (0: all)`);
  return n;
}

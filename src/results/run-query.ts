/**
 * The experiment table: runs filtered (`pipeline`, `tags`, `status`, `where`, `since`, `name`),
 * sorted, and shown with their parameters and chosen metrics — over run summaries, so it costs
 * one read of the run index whatever the number of runs.
 *
 * `where` terms are `key OP value` with OP one of `= != > >= < <= ~` (`~`: contains). A key is
 * `param.<name>`, `metric.<name>`, one of `name status pipeline project cluster tag id`, or a
 * bare name: a parameter when some run has a parameter of that name, else a metric
 * (`openllm/acc`, `step2:openllm/acc`). Values compare as numbers when both sides are numbers.
 *
 * Sort keys are the same keys plus `created` and `duration`; `-key` or `key:desc` sorts
 * descending. Runs without a value sort last either way.
 *
 * @module
 */
import { parseDuration } from "../config/parse-duration.js";
import { QueryError } from "../errors.js";
import type { RunSummary, Scalar } from "../store/run-summary.js";
import { metricOf } from "./run-metrics.js";

/** What to show. */
export interface RunQuery {
  /** `pipelineName` or `projectName/pipelineName`. */
  pipeline?: string;
  /** Every one of these tags. */
  tags?: readonly string[];
  /** Any of these statuses. */
  status?: readonly string[];
  /** `key OP value` terms, all of which must hold. */
  where?: readonly string[];
  /** Created at or after: a duration back from now (`2d`, `3h`) or a date (`2026-11-30`). */
  since?: string;
  /** Run name: exact, or a glob with `*`. */
  name?: string;
  /** Sort key (default `-created`: newest first). */
  sort?: string;
  /** At most this many rows (after sorting). */
  limit?: number;
  /** Metrics to show as columns. */
  metrics?: readonly string[];
}

/** One row of the table. */
export interface RunRow {
  summary: RunSummary;
  /** The run's state (the index's status, or what the caller knows better, e.g. `interrupted`). */
  state: string;
  /** Each asked-for metric's value (`undefined`: the run has none). */
  metrics: Record<string, number | undefined>;
}

/** Options of {@link queryRuns}. */
export interface QueryOptions {
  /** "Now", for `since` (default `Date.now()`). */
  now?: number;
  /** A better state than the index's for some runs (the CLI's `interrupted`, `starting`). */
  stateOf?: (summary: RunSummary) => string;
}

const OPERATORS = ["!=", ">=", "<=", "=", ">", "<", "~"] as const;
type Operator = (typeof OPERATORS)[number];
const FIELDS = ["name", "status", "pipeline", "project", "cluster", "tag", "id"] as const;

/** Runs `summaries` through `query` (throws {@link QueryError} naming a bad option value). */
export function queryRuns(summaries: readonly RunSummary[], query: RunQuery, options: QueryOptions = {}): RunRow[] {
  const stateOf = options.stateOf ?? ((s: RunSummary) => s.status);
  const paramNames = new Set(summaries.flatMap((s) => Object.keys(s.params)));
  const terms = (query.where ?? []).map((w) => parseTerm(w, paramNames));
  const since = query.since !== undefined ? sinceTime(query.since, options.now ?? Date.now()) : undefined;
  const nameMatch = query.name !== undefined ? globMatcher(query.name) : undefined;
  const rows: RunRow[] = [];
  for (const summary of summaries) {
    const state = stateOf(summary);
    if (query.pipeline !== undefined && query.pipeline !== summary.pipelineName && query.pipeline !== `${summary.projectName}/${summary.pipelineName}`) continue;
    if (query.tags && !query.tags.every((t) => summary.tags.includes(t))) continue;
    if (query.status && query.status.length > 0 && !query.status.includes(state) && !query.status.includes(summary.status)) continue;
    if (since !== undefined && Date.parse(summary.createdAt) < since) continue;
    if (nameMatch && !nameMatch(summary.name ?? "")) continue;
    if (!terms.every((t) => t.test(summary, state))) continue;
    const metrics: Record<string, number | undefined> = {};
    for (const key of query.metrics ?? []) metrics[key] = metricOf(summary, key);
    rows.push({ summary, state, metrics });
  }
  sortRows(rows, query.sort ?? "-created", paramNames);
  return query.limit !== undefined ? rows.slice(0, query.limit) : rows;
}

/** A key's value in a run, for filters and sorting. */
type Getter = (summary: RunSummary, state: string) => Scalar | readonly string[] | undefined;

function getterFor(key: string, paramNames: ReadonlySet<string>, option: string): Getter {
  if (key.startsWith("param.")) return (s) => s.params[key.slice(6)];
  if (key.startsWith("metric.")) return (s) => metricOf(s, key.slice(7));
  switch (key) {
    case "name":
      return (s) => s.name;
    case "status":
      return (_s, state) => state;
    case "pipeline":
      return (s) => s.pipelineName;
    case "project":
      return (s) => s.projectName;
    case "cluster":
      return (s) => s.cluster;
    case "tag":
      return (s) => s.tags;
    case "id":
      return (s) => s.id;
    case "created":
      return (s) => Date.parse(s.createdAt);
    case "duration":
      return (s) => (s.startedAt !== undefined && s.endedAt !== undefined ? s.endedAt - s.startedAt : undefined);
  }
  if (key === "") throw new QueryError(option, `${option}: empty key (use param.<name>, metric.<name>, ${FIELDS.join(", ")}, or a parameter or metric name)`);
  return paramNames.has(key) ? (s) => s.params[key] : (s) => metricOf(s, key);
}

function parseTerm(text: string, paramNames: ReadonlySet<string>): { test: (s: RunSummary, state: string) => boolean } {
  let at = -1;
  let op: Operator | undefined;
  for (let i = 1; i < text.length && op === undefined; i++) {
    for (const candidate of OPERATORS) {
      if (text.startsWith(candidate, i)) {
        at = i;
        op = candidate;
        break;
      }
    }
  }
  if (op === undefined) throw new QueryError("--where", `--where ${JSON.stringify(text)}: expected key=value (or != > >= < <= ~), e.g. --where lr=0.1 or --where openllm/acc>0.5`);
  const key = text.slice(0, at).trim();
  const wanted = text.slice(at + op.length).trim();
  const get = getterFor(key, paramNames, "--where");
  const operator = op;
  return { test: (s, state) => holds(get(s, state), operator, wanted) };
}

function holds(value: Scalar | readonly string[] | undefined, op: Operator, wanted: string): boolean {
  if (Array.isArray(value)) return op === "!=" ? !value.includes(wanted) : value.some((v) => holds(v, op, wanted));
  if (value === undefined) return op === "!=";
  const text = String(value);
  const a = Number(value);
  const b = Number(wanted);
  const numeric = wanted.trim() !== "" && text.trim() !== "" && Number.isFinite(a) && Number.isFinite(b);
  switch (op) {
    case "=":
      return numeric ? a === b : text === wanted;
    case "!=":
      return numeric ? a !== b : text !== wanted;
    case "~":
      return text.includes(wanted);
    default: {
      if (!numeric) return false;
      return op === ">" ? a > b : op === ">=" ? a >= b : op === "<" ? a < b : a <= b;
    }
  }
}

function sinceTime(text: string, now: number): number {
  const seconds = parseDuration(text);
  if (seconds !== undefined) return now - seconds * 1000;
  const at = Date.parse(text);
  if (Number.isFinite(at)) return at;
  throw new QueryError("--since", `--since ${JSON.stringify(text)}: expected a duration back from now (30m, 2h, 7d) or a date (2026-11-30, 2026-11-30T12:00)`);
}

function globMatcher(glob: string): (name: string) => boolean {
  if (!glob.includes("*")) return (name) => name === glob;
  const pattern = new RegExp(`^${glob.split("*").map(escapeRegex).join(".*")}$`);
  return (name) => pattern.test(name);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function sortRows(rows: RunRow[], sort: string, paramNames: ReadonlySet<string>): void {
  let key = sort.trim();
  let descending = false;
  if (key.startsWith("-")) [key, descending] = [key.slice(1), true];
  if (key.endsWith(":desc")) [key, descending] = [key.slice(0, -5), true];
  else if (key.endsWith(":asc")) key = key.slice(0, -4);
  const get = getterFor(key, paramNames, "--sort");
  const keyed = rows.map((row) => ({ row, value: get(row.summary, row.state) }));
  keyed.sort((x, y) => {
    const a = Array.isArray(x.value) ? x.value.join(",") : x.value;
    const b = Array.isArray(y.value) ? y.value.join(",") : y.value;
    if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
    const order = typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b), undefined, { numeric: true });
    return descending ? -order : order;
  });
  rows.splice(0, rows.length, ...keyed.map((k) => k.row));
}

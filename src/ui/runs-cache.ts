/**
 * The runs page's list: `GET /api/runs` with the filters of `gpu-dag runs` as query parameters —
 * `q` (text in id, name, pipeline, status or a tag), `pipeline`, `tag`…, `status`…, `where`…
 * (`key OP value`), `since`, `name`, `sort`, `metric`… (columns) — applied to every run of the
 * store by the results layer's {@link queryRuns}; at most {@link RUNS_SENT} rows are sent, with how
 * many matched and how many the store has. The store's summaries are kept while its run index
 * and `runs/` directory are unchanged (the page polls every 2 s; a 5,000-run index is ~5 MB to
 * read and fold), and read again after {@link MAX_AGE_MS} whatever the files say.
 *
 * @module
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { QueryError } from "../errors.js";
import { queryRuns, type RunQuery } from "../results/run-query.js";
import { newestFirst } from "../results/run-summaries.js";
import { readRunSummaries } from "../store/run-index-reader.js";
import type { RunSummary } from "../store/run-summary.js";

/** The most rows one answer sends (the page asks with narrower filters for others). */
export const RUNS_SENT = 500;
/** Longest the summaries are used without reading the index again. */
export const MAX_AGE_MS = 10_000;
/** Most `tag`, `status`, `where` or `metric` values one request may give. */
const MAX_VALUES = 50;

/** A function answering `GET /api/runs` (its URL) for the store at `home`: HTTP status and JSON body. */
export function runsListCache(home: string): (url: URL) => Promise<{ status: number; body: string }> {
  let cached: { mark: string; at: number; summaries: RunSummary[]; plain?: string } | undefined;
  const summaries = async () => {
    const [index, runs] = await Promise.all([stat(join(home, "index", "runs.jsonl")).catch(() => undefined), stat(join(home, "runs")).catch(() => undefined)]);
    const mark = `${index?.size ?? 0}:${index?.mtimeMs ?? 0}:${runs?.mtimeMs ?? 0}`;
    if (!cached || cached.mark !== mark || Date.now() - cached.at >= MAX_AGE_MS) {
      cached = { mark, at: Date.now(), summaries: (await readRunSummaries(home)).sort(newestFirst) };
    }
    return cached;
  };
  return async (url) => {
    const current = await summaries();
    const plain = [...url.searchParams.keys()].every((k) => k === "token");
    // The page's first load (no filter): the same body until the store changes.
    if (plain && current.plain !== undefined) return { status: 200, body: current.plain };
    try {
      const body = JSON.stringify(answer(current.summaries, url.searchParams));
      if (plain) current.plain = body;
      return { status: 200, body };
    } catch (error) {
      if (error instanceof QueryError) return { status: 400, body: JSON.stringify({ error: error.message }) };
      throw error;
    }
  };
}

/** The rows `params` ask for, how many matched, and how many runs the store has. */
function answer(summaries: readonly RunSummary[], params: URLSearchParams): { runs: ReturnType<typeof queryRuns>; matched: number; total: number } {
  const many = (key: string): string[] => {
    const values = params
      .getAll(key)
      .flatMap((v) => (key === "where" ? [v] : v.split(",")))
      .map((v) => v.trim())
      .filter(Boolean);
    if (values.length > MAX_VALUES) throw new QueryError(key, `${key}: at most ${MAX_VALUES} values`);
    return values;
  };
  const one = (key: string): string | undefined => params.get(key)?.trim() || undefined;
  const needle = one("q")?.toLowerCase();
  const searched = needle ? summaries.filter((s) => [s.id, s.name ?? "", s.pipelineName, s.status, ...s.tags].some((v) => v.toLowerCase().includes(needle))) : summaries;
  const query: RunQuery = { tags: many("tag"), status: many("status"), where: many("where"), metrics: many("metric") };
  for (const key of ["pipeline", "since", "name", "sort"] as const) {
    const value = one(key);
    if (value !== undefined) query[key] = value;
  }
  const rows = queryRuns(searched, query);
  return { runs: rows.slice(0, RUNS_SENT), matched: rows.length, total: summaries.length };
}

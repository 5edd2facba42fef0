/**
 * The runs page's list, kept while the store's run index and `runs/` directory are unchanged
 * (the page polls it every 2 s; a 5,000-run index is ~5 MB to read and fold): the JSON body of
 * `GET /api/runs` — the newest {@link RUNS_SENT} runs as `queryRuns` rows, and how many runs the
 * store has. Looked at again after {@link MAX_AGE_MS} whatever the files say.
 *
 * @module
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { queryRuns } from "../results/run-query.js";
import { newestFirst } from "../results/run-summaries.js";
import { readRunSummaries } from "../store/run-index-reader.js";

/** The newest runs the runs page gets (its filter searches these). */
export const RUNS_SENT = 500;
/** Longest a list is served without reading the index again. */
export const MAX_AGE_MS = 10_000;

/** A function giving the current list's JSON body for the store at `home`. */
export function runsListCache(home: string): () => Promise<string> {
  let cached: { mark: string; at: number; body: string } | undefined;
  return async () => {
    const [index, runs] = await Promise.all([stat(join(home, "index", "runs.jsonl")).catch(() => undefined), stat(join(home, "runs")).catch(() => undefined)]);
    const mark = `${index?.size ?? 0}:${index?.mtimeMs ?? 0}:${runs?.mtimeMs ?? 0}`;
    if (cached && cached.mark === mark && Date.now() - cached.at < MAX_AGE_MS) return cached.body;
    const at = Date.now();
    const summaries = (await readRunSummaries(home)).sort(newestFirst);
    const body = JSON.stringify({ runs: queryRuns(summaries, { limit: RUNS_SENT }), total: summaries.length });
    cached = { mark, at, body };
    return body;
  };
}

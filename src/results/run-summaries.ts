/**
 * Run summaries for the results layer: from the store's run index when it keeps one, else built
 * from every run's record and journal (slow on a large store, but any `Store` works).
 *
 * @module
 */
import type { RunSummary } from "../store/run-summary.js";
import { summarizeRun } from "../store/run-summary.js";
import type { Store } from "../store/store.js";

/** Every run's summary, newest first. */
export async function runSummaries(store: Store): Promise<RunSummary[]> {
  const summaries = store.listRunSummaries ? await store.listRunSummaries() : await scan(store);
  return summaries.sort(newestFirst);
}

/** Newest first by creation time, then by id (ids start with their time). */
export function newestFirst(a: RunSummary, b: RunSummary): number {
  // ISO timestamps (toISOString) order as text.
  return a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Run `runId`'s summary rebuilt from its journal (and recorded in the index, when the store has one). */
export async function refreshSummary(store: Store, runId: string): Promise<RunSummary> {
  const fresh = store.reindexRun ? await store.reindexRun(runId) : undefined;
  return fresh ?? summarizeRun(await store.getRun(runId), await store.readJournal(runId));
}

async function scan(store: Store): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  for (const record of await store.listRuns()) out.push(summarizeRun(record, await store.readJournal(record.id).catch(() => [])));
  return out;
}

/**
 * The file store's side of the run index: it feeds the index from the writes the store sees (a
 * created run, each journal entry) and reads it back whole, rebuilding the summary of any run the
 * index lacks (a store from before the index, a line lost in a crash) from its record and journal.
 *
 * @module
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { JournalEntry, RunRecord } from "./records.js";
import { RunIndex } from "./run-index.js";
import { deltasOf, labelsOf, type PlannedInput, type RunSummary, summarizeRun } from "./run-summary.js";

/** How the index reads runs it has to rebuild. */
export interface RunSource {
  runsDir: string;
  getRun(id: string): Promise<RunRecord>;
  readJournal(id: string): Promise<JournalEntry[]>;
}

/** See the module comment. */
export class IndexedRuns {
  readonly index: RunIndex;
  readonly #source: RunSource;
  /** Per open run: each step's last planned input (the finished attempt's delta carries it). */
  readonly #planned = new Map<string, Map<string, PlannedInput>>();
  readonly #pending = new Set<Promise<void>>();

  constructor(home: string, source: RunSource) {
    this.index = new RunIndex(home);
    this.#source = source;
  }

  /** A run was created. */
  created(record: RunRecord): void {
    this.index.append([{ k: "run", id: record.id, at: Date.parse(record.createdAt), run: labelsOf(record) }]);
  }

  /** An entry was appended to run `runId`'s journal. */
  journaled(runId: string, entry: JournalEntry): void {
    let planned = this.#planned.get(runId);
    if (!planned) {
      planned = new Map();
      this.#planned.set(runId, planned);
    }
    if (entry.type === "attempt-finished" && planned.get(entry.step)?.attempt !== entry.attempt) {
      // An attempt this process did not plan (a resumed controller adopted it): the journal has it.
      const late = this.#source.readJournal(runId).then(
        (entries) => this.index.append(deltasOf(runId, entry, plannedFrom(entries))),
        () => this.index.append(deltasOf(runId, entry, planned)),
      );
      this.#pending.add(late);
      void late.finally(() => this.#pending.delete(late));
      return;
    }
    this.index.append(deltasOf(runId, entry, planned));
  }

  /** Resolves once everything noted so far is written to the index. */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
    await this.index.flush();
  }

  /** The run's journal is closed: forget what was kept for it. */
  closed(runId: string): void {
    this.#planned.delete(runId);
  }

  /** Every run's summary, rebuilding (and recording) those the index lacks. */
  async list(): Promise<RunSummary[]> {
    await Promise.all([...this.#pending]);
    const [contents, ids] = await Promise.all([this.index.read(), readdir(this.#source.runsDir).catch(() => [] as string[])]);
    const out: RunSummary[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const summary = contents.summaries.get(id);
      if (summary) out.push(summary);
      else if (!id.startsWith(".")) missing.push(id);
    }
    for (const id of missing) {
      const rebuilt = await this.reindex(id).catch(() => undefined);
      if (rebuilt) out.push(rebuilt);
    }
    if (missing.length > 0) await this.index.flush();
    return out;
  }

  /** Rebuilds run `id`'s summary from its record and journal and records it; `undefined` if the run has no record. */
  async reindex(id: string): Promise<RunSummary | undefined> {
    const record = await this.#source.getRun(id).catch(() => undefined);
    if (!record) return undefined;
    const summary = summarizeRun(record, await this.#source.readJournal(id));
    this.index.append([{ k: "full", id, at: Date.now(), summary }]);
    return summary;
  }
}

function plannedFrom(entries: readonly JournalEntry[]): Map<string, PlannedInput> {
  const planned = new Map<string, PlannedInput>();
  for (const entry of entries) if (entry.type === "attempt-planned") deltasOf("", entry, planned);
  return planned;
}

/** `<home>/runs`. */
export function runsDirOf(home: string): string {
  return join(home, "runs");
}

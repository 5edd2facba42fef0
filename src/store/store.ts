/**
 * The Store contract: where drafts, models, artifacts, metrics and run journals live.
 * The runner and the task classes only see this interface; `FileStore` is the embedded default.
 *
 * @module
 */

import type { ArtifactRecord, CacheEntry, JournalEntry, ModelRecord, RunRecord, TaskRecord } from "./records.js";
import type { RunLock } from "./run-lock.js";
import type { RunSummary } from "./run-summary.js";

/**
 * The contract. Writes are atomic; `appendJournal` resolves only once the entry is durable.
 * A store that cannot take a write — removed, replaced or unwritable while in use — rejects
 * with a `StoreError` (code `E_STORE`, naming the path); it never reports a write that went
 * nowhere (e.g. into a deleted file) as done.
 */
export interface Store {
  /** Human-readable location, e.g. the directory. */
  readonly location: string;

  putTask(record: TaskRecord): Promise<void>;
  /** Throws `TaskNotFoundError`. */
  getTask(id: string): Promise<TaskRecord>;
  listTasks(): Promise<TaskRecord[]>;

  putModel(record: ModelRecord): Promise<void>;
  /** `undefined` when unknown. */
  getModel(id: string): Promise<ModelRecord | undefined>;
  listModels(): Promise<ModelRecord[]>;

  putArtifact(record: ArtifactRecord): Promise<void>;
  getArtifact(id: string): Promise<ArtifactRecord | undefined>;
  listArtifacts(): Promise<ArtifactRecord[]>;

  /** Creates a run; fails if the id exists. */
  createRun(record: RunRecord): Promise<void>;
  /** Throws `RunNotFoundError`. */
  getRun(id: string): Promise<RunRecord>;
  listRuns(): Promise<RunRecord[]>;

  /**
   * Every run's summary (labels, parameters, status, each ended step's metrics and models) from an
   * index the store keeps, without replaying journals. Optional: the results layer rebuilds
   * summaries from `listRuns()` and the journals for a store without one.
   */
  listRunSummaries?(): Promise<RunSummary[]>;
  /** Rebuilds run `runId`'s index entry from its journal (one written elsewhere, e.g. mirrored from a cluster). */
  reindexRun?(runId: string): Promise<RunSummary | undefined>;

  /** Appends to a run's journal; resolves when fsynced. */
  appendJournal(runId: string, entry: JournalEntry): Promise<void>;
  /** The journal's entries in order. A torn last line (crash mid-write) is ignored. */
  readJournal(runId: string): Promise<JournalEntry[]>;
  /**
   * Flushes and closes whatever the store holds open for this run's journal (the next append
   * opens it again). Called when a controller stops driving the run, so a long-lived store
   * (the default one, or a user's) holds nothing per finished run.
   */
  closeJournal(runId: string): Promise<void>;

  /** A cached step result by key (`cacheExecutedStep`), or `undefined`. */
  getCacheEntry(key: string): Promise<CacheEntry | undefined>;
  putCacheEntry(entry: CacheEntry): Promise<void>;

  /**
   * Recorded run times (ms) of steps by run-time key (`runner/run-times.ts`), the most recent
   * last, for the keys asked; a key never recorded is absent. Optional: a store without it gives
   * the runner no history, and priorities stay the planner's.
   */
  getRunTimes?(keys: readonly string[]): Promise<Map<string, number[]>>;
  /** Records one run's step run times by run-time key (estimates: best effort, not fsynced). */
  recordRunTimes?(times: ReadonlyMap<string, number>): Promise<void>;

  /** Takes the run's controller lock (one controller per run), or throws `RunLockedError`. */
  lockRun(runId: string): Promise<RunLock>;

  /** Local directory for one attempt's files (logs, outputs manifest); created if missing. */
  attemptDir(runId: string, step: string, attempt: number): Promise<string>;
  /** Where {@link Store.attemptDir} is, without creating anything (readers: `logs`, `cancel`, the dry run). */
  attemptPath(runId: string, step: string, attempt: number): string;
  /** Local directory for a run's own files (controller log, lock). */
  runDir(runId: string): string;

  /** Flushes and closes open journals. The owner of a store closes it when done with it. */
  close(): Promise<void>;
}

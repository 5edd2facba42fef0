/**
 * The embedded default store: a directory of JSON files.
 *
 * ```
 * <home>/tasks/<id>.json          <home>/models/<id>.json      <home>/artifacts/<id>.json
 * <home>/cache/<key>.json         outputs of successful steps by cache key
 * <home>/runtimes.jsonl           run times of succeeded steps, one line per run (run-times-file.ts)
 * <home>/runs/<run>/run.json      <home>/runs/<run>/journal.jsonl
 * <home>/runs/<run>/steps/<step>/attempt-<n>/{stdout.log,stderr.log,outputs.json}
 * ```
 *
 * `home` is the `home` option, else `GPU_DAG_HOME`, else `~/.gpu-dag`.
 *
 * A store removed while in use is an error, never re-created behind the user's back: the home
 * directory is made on first use and again by `createRun()` / `putTask()` (the calls that start
 * new work), but once this instance has seen it, every other write fails with a
 * {@link StoreError} naming it when it is gone. Run files (journal, attempt directories, lock)
 * are only written inside an existing run directory (made by `createRun()`).
 *
 * @module
 */
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { z } from "zod";
import { RunNotFoundError, StoreError, TaskNotFoundError } from "../errors.js";
import { atomicWrite } from "./atomic-write.js";
import { assertSafeSegment } from "./ids.js";
import { IndexedRuns, runsDirOf } from "./indexed-runs.js";
import { JournalWriter } from "./journal-writer.js";
import {
  type ArtifactRecord,
  ArtifactRecordSchema,
  type CacheEntry,
  CacheEntrySchema,
  type JournalEntry,
  JournalEntrySchema,
  type ModelRecord,
  ModelRecordSchema,
  type RunRecord,
  RunRecordSchema,
  type TaskRecord,
  TaskRecordSchema,
} from "./records.js";
import { acquireRunLock, type RunLock } from "./run-lock.js";
import type { RunSummary } from "./run-summary.js";
import { appendRunTimes, RUN_TIMES_FILE, readRunTimes } from "./run-times-file.js";
import type { Store } from "./store.js";
import { encodeSegment, isSafe, mkdirOnce, storeWriteError } from "./store-fs.js";

/** Resolves the store directory: explicit, then `GPU_DAG_HOME`, then `~/.gpu-dag`. */
export function defaultStoreHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env["GPU_DAG_HOME"] || join(homedir(), ".gpu-dag"));
}

/** Options for {@link FileStore}. */
export interface FileStoreOptions {
  /** Store directory (default: {@link defaultStoreHome}). */
  home?: string;
}

/** A {@link Store} in a directory of files. */
export class FileStore implements Store {
  readonly home: string;
  readonly #journals = new Map<string, JournalWriter>();
  /** The home directory existed (or was made) while this instance used it. */
  #homeSeen = false;
  /** The run index (`index/runs.jsonl`): fed by createRun and appendJournal, read by listRunSummaries. */
  readonly #index: IndexedRuns;

  constructor(options: FileStoreOptions = {}) {
    this.home = options.home ? resolve(options.home) : defaultStoreHome();
    this.#index = new IndexedRuns(this.home, { runsDir: runsDirOf(this.home), getRun: (id) => this.getRun(id), readJournal: (id) => this.readJournal(id) });
  }

  get location(): string {
    return this.home;
  }

  putTask(record: TaskRecord): Promise<void> {
    return this.#put("tasks", record.id, record, true);
  }
  async getTask(id: string): Promise<TaskRecord> {
    const record = await this.#get("tasks", id, TaskRecordSchema);
    if (!record) throw new TaskNotFoundError(id);
    return record;
  }
  listTasks(): Promise<TaskRecord[]> {
    return this.#list("tasks", TaskRecordSchema);
  }

  putModel(record: ModelRecord): Promise<void> {
    return this.#put("models", record.id, record);
  }
  getModel(id: string): Promise<ModelRecord | undefined> {
    return this.#get("models", id, ModelRecordSchema);
  }
  listModels(): Promise<ModelRecord[]> {
    return this.#list("models", ModelRecordSchema);
  }

  putArtifact(record: ArtifactRecord): Promise<void> {
    return this.#put("artifacts", record.id, record);
  }
  getArtifact(id: string): Promise<ArtifactRecord | undefined> {
    return this.#get("artifacts", id, ArtifactRecordSchema);
  }
  listArtifacts(): Promise<ArtifactRecord[]> {
    return this.#list("artifacts", ArtifactRecordSchema);
  }

  async createRun(record: RunRecord): Promise<void> {
    assertSafeSegment("run id", record.id);
    const dir = this.runDir(record.id);
    await this.#ensureHome(true);
    await mkdirOnce(join(this.home, "runs"));
    try {
      await mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new StoreError(`run "${record.id}" already exists in ${this.home}`, { path: dir, cause: error });
      throw storeWriteError(dir, error);
    }
    const file = join(dir, "run.json");
    await atomicWrite(file, JSON.stringify(record, null, 2), { createDir: false }).catch((error: unknown) => {
      throw storeWriteError(file, error);
    });
    this.#index.created(record);
  }
  async getRun(id: string): Promise<RunRecord> {
    if (!isSafe(id)) throw new RunNotFoundError(id);
    const record = await this.#readJson(join(this.runDir(id), "run.json"), RunRecordSchema);
    if (!record) throw new RunNotFoundError(id);
    return record;
  }
  async listRuns(): Promise<RunRecord[]> {
    const ids = await readdir(join(this.home, "runs")).catch(() => [] as string[]);
    const runs = await Promise.all(ids.sort().map((id) => this.#readJson(join(this.runDir(id), "run.json"), RunRecordSchema).catch(() => undefined)));
    return runs.filter((r): r is RunRecord => r !== undefined);
  }

  appendJournal(runId: string, entry: JournalEntry): Promise<void> {
    let writer = this.#journals.get(runId);
    if (!writer) {
      assertSafeSegment("run id", runId);
      writer = new JournalWriter(join(this.runDir(runId), "journal.jsonl"));
      this.#journals.set(runId, writer);
    }
    return writer.append(entry).then(() => this.#index.journaled(runId, entry));
  }

  /** Every run's summary from the run index (runs the index lacks are rebuilt from their journal). */
  listRunSummaries(): Promise<RunSummary[]> {
    return this.#index.list();
  }

  /** Rebuilds run `runId`'s index entry from its journal (e.g. one a cluster's controller wrote). */
  reindexRun(runId: string): Promise<RunSummary | undefined> {
    return this.#index.reindex(runId);
  }

  async readJournal(runId: string): Promise<JournalEntry[]> {
    if (!isSafe(runId)) throw new RunNotFoundError(runId);
    const file = join(this.runDir(runId), "journal.jsonl");
    const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return "";
      throw new StoreError(`cannot read journal ${file}: ${error.message}`, { path: file, cause: error });
    });
    const lines = text.split("\n");
    const entries: JournalEntry[] = [];
    lines.forEach((line, index) => {
      if (line === "") return;
      // Only the final piece can be torn, and only when the file does not end with a newline
      // (then it is lines[length - 1]; the line before it is complete).
      const isLast = index === lines.length - 1 && !text.endsWith("\n");
      try {
        entries.push(JournalEntrySchema.parse(JSON.parse(line)));
      } catch (error) {
        // A torn final line is what a crash mid-append leaves; anything else is corruption.
        if (isLast) return;
        throw new StoreError(`journal ${file} line ${index + 1} is corrupt: ${(error as Error).message}`, {
          path: file,
          cause: error,
        });
      }
    });
    return entries;
  }

  getCacheEntry(key: string): Promise<CacheEntry | undefined> {
    return this.#get("cache", key, CacheEntrySchema);
  }
  putCacheEntry(entry: CacheEntry): Promise<void> {
    return this.#put("cache", entry.key, entry);
  }

  getRunTimes(keys: readonly string[]): Promise<Map<string, number[]>> {
    return readRunTimes(join(this.home, RUN_TIMES_FILE), keys);
  }
  async recordRunTimes(times: ReadonlyMap<string, number>): Promise<void> {
    await this.#ensureHome(false);
    await appendRunTimes(join(this.home, RUN_TIMES_FILE), times);
  }

  /** Flushes and closes run `runId`'s journal file, if open (the next append opens it again). */
  async closeJournal(runId: string): Promise<void> {
    const writer = this.#journals.get(runId);
    this.#journals.delete(runId);
    await writer?.close();
    this.#index.closed(runId);
    await this.#index.flush();
  }

  lockRun(runId: string): Promise<RunLock> {
    assertSafeSegment("run id", runId);
    return acquireRunLock(this.runDir(runId), runId);
  }

  attemptPath(runId: string, step: string, attempt: number): string {
    assertSafeSegment("run id", runId);
    return join(this.runDir(runId), "steps", encodeSegment(step), `attempt-${attempt}`);
  }

  async attemptDir(runId: string, step: string, attempt: number): Promise<string> {
    const dir = this.attemptPath(runId, step, attempt);
    const runDir = this.runDir(runId);
    // Made below the run directory only: a removed store is not re-created here.
    const info = await stat(runDir).catch(() => undefined);
    if (!info?.isDirectory()) throw new StoreError(`run directory ${runDir} is gone (store removed while the run was using it?)`, { path: runDir });
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw storeWriteError(dir, error);
    });
    return dir;
  }

  runDir(runId: string): string {
    return join(this.home, "runs", runId);
  }

  async close(): Promise<void> {
    const writers = [...this.#journals.values()];
    this.#journals.clear();
    await Promise.all(writers.map((w) => w.close()));
    await this.#index.flush();
  }

  async #put(kind: string, id: string, record: unknown, startsWork = false): Promise<void> {
    assertSafeSegment(`${kind} id`, id);
    await this.#ensureHome(startsWork);
    const file = join(this.home, kind, `${id}.json`);
    await mkdirOnce(join(this.home, kind));
    await atomicWrite(file, JSON.stringify(record, null, 2), { createDir: false }).catch((error: unknown) => {
      throw storeWriteError(file, error);
    });
  }

  /**
   * Makes the home directory on first use (or when `startsWork`); afterwards a missing home
   * means it was removed while in use, which is an error.
   */
  async #ensureHome(startsWork: boolean): Promise<void> {
    if (startsWork || !this.#homeSeen) {
      await mkdir(this.home, { recursive: true }).catch((error: unknown) => {
        throw storeWriteError(this.home, error);
      });
      this.#homeSeen = true;
      return;
    }
    const info = await stat(this.home).catch(() => undefined);
    if (!info?.isDirectory()) throw new StoreError(`store directory ${this.home} is gone (removed while in use?)`, { path: this.home });
  }

  async #get<S extends z.ZodType>(kind: string, id: string, schema: S): Promise<z.output<S> | undefined> {
    if (!isSafe(id)) return undefined;
    return this.#readJson(join(this.home, kind, `${id}.json`), schema);
  }

  async #list<S extends z.ZodType>(kind: string, schema: S): Promise<z.output<S>[]> {
    const dir = join(this.home, kind);
    const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(".json") && !f.startsWith("."));
    const records: z.output<S>[] = [];
    for (const f of files.sort()) {
      const record = await this.#readJson(join(dir, f), schema);
      if (record !== undefined) records.push(record);
    }
    return records;
  }

  async #readJson<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S> | undefined> {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new StoreError(`cannot read ${file}: ${(error as Error).message}`, { path: file, cause: error });
    }
    try {
      return schema.parse(JSON.parse(text));
    } catch (error) {
      throw new StoreError(`store record ${file} is corrupt: ${(error as Error).message}`, { path: file, cause: error });
    }
  }
}

/**
 * The run index of a file store: `<home>/index/runs.jsonl`, one {@link IndexDelta} per line,
 * folded into one {@link RunSummary} per run (`run-summary.ts`). It is a cache: every line can be
 * rebuilt from the runs' records and journals, and the store does so for a run the index lacks.
 *
 * Many processes append to it at once (every controller, every `gpu-dag run`), without a lock:
 * each append is one `write()` of whole lines to a file opened `O_APPEND`, and the fold is
 * order-independent, so interleaved writers lose nothing. Appends are not awaited by the
 * journal write that caused them (a run never waits on its index) and not fsynced: a line lost in
 * a crash is one the store rebuilds (a run left `running` is re-read from its journal).
 *
 * Compaction (when the file holds more than twice as many lines as runs) rewrites it with one
 * `full` line per run: under `index/compact.lock`, read → fold → write a temp file → rename over
 * the index → read whatever was appended to the old file after the first read and append it to the
 * new one. An appender checks, after writing, that the path still names the file it wrote to; if a
 * compaction renamed a new file in meanwhile, it appends its lines again (a duplicate is harmless).
 * Between the two, no line is lost.
 *
 * @module
 */
import { mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type IndexDelta, type RunSummary, SummaryFold } from "./run-summary.js";

/** Compact when the file has more than `COMPACT_FACTOR × runs + COMPACT_SLACK` lines. */
const COMPACT_FACTOR = 2;
const COMPACT_SLACK = 200;
/** A compaction lock older than this was left by a dead process. */
const STALE_LOCK_MS = 60_000;

/** What {@link RunIndex.read} found. */
export interface IndexContents {
  summaries: Map<string, RunSummary>;
  /** Lines read (a compaction is due when far above the number of runs). */
  lines: number;
}

/** See the module comment. */
export class RunIndex {
  readonly dir: string;
  readonly file: string;
  #queue: string[] = [];
  #writing: Promise<void> | undefined;
  /** The last append failure (the index is a cache: reads rebuild what is missing). */
  lastError: unknown;

  constructor(home: string) {
    this.dir = join(home, "index");
    this.file = join(this.dir, "runs.jsonl");
  }

  /** Queues lines; they are written in order, in the background (see {@link RunIndex.flush}). */
  append(deltas: readonly IndexDelta[]): void {
    if (deltas.length === 0) return;
    for (const delta of deltas) this.#queue.push(JSON.stringify({ v: 1, ...delta }) + "\n");
    this.#writing ??= this.#drain();
  }

  /** Resolves when every queued line has been written (or failed: see `lastError`). */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #drain(): Promise<void> {
    await Promise.resolve();
    while (this.#queue.length > 0) {
      const text = this.#queue.join("");
      this.#queue = [];
      try {
        await appendLines(this.dir, this.file, text);
      } catch (error) {
        this.lastError = error;
      }
    }
    this.#writing = undefined;
  }

  /** Reads and folds the index (missing file: empty). Compacts it first when it is due. */
  async read(): Promise<IndexContents> {
    await this.flush();
    const contents = await readIndex(this.file);
    if (contents.lines > COMPACT_FACTOR * contents.summaries.size + COMPACT_SLACK) await this.compact().catch(() => undefined);
    return contents;
  }

  /** Rewrites the index with one line per run (see the module comment). False when another process holds the lock. */
  async compact(): Promise<boolean> {
    await this.flush();
    const lock = join(this.dir, "compact.lock");
    if (!(await takeLock(lock))) return false;
    try {
      const old = await open(this.file, "r").catch(() => undefined);
      if (!old) return true;
      try {
        const first = await old.readFile();
        const upTo = first.lastIndexOf(0x0a) + 1;
        const fold = foldText(first.subarray(0, upTo).toString("utf8"));
        const now = Date.now();
        const lines = fold.summaries().map((summary) => JSON.stringify({ v: 1, k: "full", id: summary.id, at: now, summary }) + "\n");
        const tmp = join(this.dir, `.runs.jsonl.${process.pid}.tmp`);
        await writeFile(tmp, lines.join(""));
        await rename(tmp, this.file);
        // Lines appended to the old file after the first read (before the rename) go to the new one.
        const info = await old.stat();
        if (info.size > upTo) {
          const tail = Buffer.alloc(info.size - upTo);
          await old.read(tail, 0, tail.length, upTo);
          const complete = tail.subarray(0, tail.lastIndexOf(0x0a) + 1);
          if (complete.length > 0) await appendLines(this.dir, this.file, complete.toString("utf8"));
        }
      } finally {
        await old.close();
      }
      return true;
    } finally {
      await rm(lock, { force: true });
    }
  }
}

/** Reads and folds an index file. Lines that do not parse (a torn last line) are skipped. */
export async function readIndex(file: string): Promise<IndexContents> {
  const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "";
    throw error;
  });
  const fold = foldText(text);
  return { summaries: new Map(fold.summaries().map((s) => [s.id, s])), lines: fold.lines };
}

function foldText(text: string): SummaryFold {
  const fold = new SummaryFold();
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    let delta: (IndexDelta & { v?: number }) | undefined;
    try {
      delta = JSON.parse(line) as IndexDelta & { v?: number };
    } catch {
      continue;
    }
    if (delta && delta.v === 1 && typeof delta.id === "string") fold.add(delta);
  }
  return fold;
}

/** One write of whole lines, appended; again to the new file when a compaction replaced it meanwhile. */
async function appendLines(dir: string, file: string, text: string): Promise<void> {
  // One level only: a store directory removed while in use is not made again behind the user's back.
  await mkdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  for (let tries = 0; tries < 5; tries++) {
    const handle = await open(file, "a");
    let written: { dev: number; ino: number };
    try {
      await handle.write(text);
      written = await handle.stat();
    } finally {
      await handle.close();
    }
    const now = await stat(file).catch(() => undefined);
    if (now && now.dev === written.dev && now.ino === written.ino) return;
  }
}

/** Creates `lock` exclusively (a stale one is removed first); false when another process holds it. */
async function takeLock(lock: string): Promise<boolean> {
  const info = await stat(lock).catch(() => undefined);
  if (info && Date.now() - info.mtimeMs > STALE_LOCK_MS) await rm(lock, { force: true });
  try {
    await writeFile(lock, String(process.pid), { flag: "wx" });
    return true;
  } catch {
    return false;
  }
}

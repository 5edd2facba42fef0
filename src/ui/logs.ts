/**
 * A job's log for the step page: only `stdout.log` / `stderr.log` of an attempt directory of a
 * step the run has, and only a path that stays inside the store (no `..`, no link out).
 *
 * @module
 */
import { open, realpath } from "node:fs/promises";
import { sep } from "node:path";
import type { Store } from "../store/store.js";

/** Log files a request may name. */
const STREAMS = new Set(["stdout", "stderr"]);
/** Bytes sent per request at most (the page asks again from the new offset). */
const CHUNK = 256 * 1024;

/** A slice of a log from `offset`: its text and the offset to ask from next. */
export interface LogSlice {
  text: string;
  next: number;
}

/** Reads the log, or `undefined` when the request names no log of this store. */
export async function readLog(store: Store, home: string, runId: string, step: string, attempt: number, stream: string, offset: number): Promise<LogSlice | undefined> {
  if (!STREAMS.has(stream) || !Number.isSafeInteger(attempt) || attempt < 1 || !Number.isSafeInteger(offset) || offset < 0) return undefined;
  const file = `${store.attemptPath(runId, step, attempt)}${sep}${stream}.log`;
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    return { text: "", next: offset };
  }
  const root = await realpath(home);
  if (!real.startsWith(root + sep)) return undefined;
  const handle = await open(real, "r");
  try {
    const buffer = Buffer.alloc(CHUNK);
    const { bytesRead } = await handle.read(buffer, 0, CHUNK, offset);
    return { text: buffer.subarray(0, bytesRead).toString("utf8"), next: offset + bytesRead };
  } finally {
    await handle.close();
  }
}

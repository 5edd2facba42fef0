/**
 * File helpers of the file store: one-level `mkdir`, write errors that name the path, and the
 * checks that keep ids and step names from escaping their directory.
 *
 * @module
 */
import { mkdir, stat } from "node:fs/promises";
import { StoreError } from "../errors.js";

/** `mkdir` of one level; an existing directory is fine, anything else is a {@link StoreError}. */
export async function mkdirOnce(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST" && (await stat(dir).catch(() => undefined))?.isDirectory()) return;
    throw storeWriteError(dir, error);
  }
}

/** A failed store write as a {@link StoreError} naming the path. */
export function storeWriteError(path: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === "ENOENT"
      ? "its directory is gone (store removed while in use?)"
      : code === "EEXIST" || code === "ENOTDIR"
        ? "a file stands where a directory should be"
        : code === "EACCES" || code === "EPERM" || code === "EROFS"
          ? `the store is not writable (${code})`
          : (error as Error).message;
  return new StoreError(`cannot write ${path}: ${why}`, { path, cause: error });
}

/** True for an id that is safe as one path segment. */
export function isSafe(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id) && !id.includes("..");
}

/** Step names are validated by the pipeline, but encode defensively: a path segment must never escape. */
export function encodeSegment(step: string): string {
  return isSafe(step) ? step : encodeURIComponent(step).replace(/\./g, "%2E");
}

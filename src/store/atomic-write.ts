/**
 * Crash-safe file writes: a reader sees the old content or the new, never a torn file.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Options of {@link atomicWrite}. */
export interface AtomicWriteOptions {
  /** File mode of a new file (default 0o644). */
  mode?: number;
  /**
   * Create missing parent directories (default true). A store writing into a directory it
   * expects to exist passes false, so a removed store fails with ENOENT instead of being
   * silently re-created.
   */
  createDir?: boolean;
}

/** Writes `data` to `file` via a temp file in the same directory, fsync, rename, and a directory fsync. */
export async function atomicWrite(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(file);
  if (options.createDir !== false) await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", options.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    await rename(temp, file);
  } catch (error) {
    await handle.close().catch(() => undefined); // already closed when the rename failed
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(dir);
}

/** Fsyncs a directory so a rename or create in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

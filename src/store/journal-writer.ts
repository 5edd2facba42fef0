/**
 * Append-only JSON-lines file with group commit: appends made while an fsync is in flight are
 * written and fsynced together, so each caller's promise resolves only once its line is durable,
 * and a burst of N appends costs far fewer than N fsyncs.
 *
 * An open fd to a file that was unlinked (its store or run directory removed, or the file
 * replaced) keeps accepting writes that nobody will ever read. So after each fsynced batch the
 * path is checked to still name the file written to; when it does not, the batch and every later
 * append reject with a {@link StoreError} (the writer stays broken: a journal with a hole in it
 * must not carry on as if nothing happened).
 *
 * @module
 */
import { type FileHandle, open, readFile, stat, truncate } from "node:fs/promises";
import { dirname } from "node:path";
import { StoreError } from "../errors.js";
import { fsyncDir } from "./atomic-write.js";

interface Pending {
  line: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface OpenFile {
  handle: FileHandle;
  dev: number;
  ino: number;
}

/** One open journal file. Its directory must exist (the run directory, made by `createRun`). */
export class JournalWriter {
  readonly #file: string;
  #open: Promise<OpenFile> | undefined;
  #pending: Pending[] = [];
  #flushing: Promise<void> | undefined;
  #broken: StoreError | undefined;

  constructor(file: string) {
    this.#file = file;
  }

  /** Appends one record; resolves when it is on disk (fsynced), rejects with a {@link StoreError}. */
  append(record: unknown): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken);
    const line = JSON.stringify(record) + "\n";
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ line, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  async #flush(): Promise<void> {
    await Promise.resolve(); // append() stores this promise before the loop can end and clear it
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      try {
        if (this.#broken) throw this.#broken;
        const file = await this.#openFile();
        await file.handle.write(batch.map((p) => p.line).join(""));
        await file.handle.datasync();
        await this.#checkStillThere(file);
        for (const p of batch) p.resolve();
      } catch (error) {
        // After a failed write the file may end in a partial line: nothing more goes after it.
        this.#broken ??= asStoreError(this.#file, error);
        for (const p of batch) p.reject(this.#broken);
      }
    }
    this.#flushing = undefined;
  }

  #openFile(): Promise<OpenFile> {
    // The directory is fsynced once so the journal file itself survives a crash. It is not
    // created here: a missing run directory means the store was removed, not a new run.
    this.#open ??= (async () => {
      await dropTornTail(this.#file);
      const handle = await open(this.#file, "a");
      try {
        const info = await handle.stat();
        await fsyncDir(dirname(this.#file));
        return { handle, dev: info.dev, ino: info.ino };
      } catch (error) {
        await handle.close();
        throw error;
      }
    })();
    return this.#open;
  }

  /** The path must still name the file just written: not unlinked, not replaced, not moved away. */
  async #checkStillThere(file: OpenFile): Promise<void> {
    const now = await stat(this.#file).catch(() => undefined);
    if (now && now.dev === file.dev && now.ino === file.ino) return;
    throw new StoreError(`journal ${this.#file} was ${now ? "replaced" : "removed"} while the run was writing it (store or run directory removed?); entries written since are lost`, {
      path: this.#file,
    });
  }

  /** Waits for pending appends and closes the file. Safe to call more than once. */
  async close(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    const opened = this.#open;
    this.#open = undefined;
    const file = await opened?.catch(() => undefined);
    await file?.handle.close();
  }
}

function asStoreError(file: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === "ENOENT" || code === "ENOTDIR" ? `its run directory ${dirname(file)} is gone (store removed?)` : (error as Error).message;
  return new StoreError(`cannot append to journal ${file}: ${why}`, { path: file, cause: error });
}

/**
 * A crash mid-append can leave a last line without its newline. That entry was never
 * acknowledged (its promise never resolved), so it is cut off before appending: otherwise the
 * next entry would be glued to it and the journal would have a corrupt line in its middle.
 */
async function dropTornTail(file: string): Promise<void> {
  const text = await readFile(file).catch(() => undefined);
  if (!text || text.length === 0 || text[text.length - 1] === 0x0a) return;
  await truncate(file, text.lastIndexOf(0x0a) + 1);
}

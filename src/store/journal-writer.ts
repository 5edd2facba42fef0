/**
 * Append-only JSON-lines file with group commit: appends made while an fsync is in flight are
 * written and fsynced together, so each caller's promise resolves only once its line is durable,
 * and a burst of N appends costs far fewer than N fsyncs.
 *
 * @module
 */
import { mkdir, open, readFile, truncate, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { fsyncDir } from "./atomic-write.js";

interface Pending {
  line: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** One open journal file. */
export class JournalWriter {
  readonly #file: string;
  #handle: Promise<FileHandle> | undefined;
  #pending: Pending[] = [];
  #flushing = false;

  constructor(file: string) {
    this.#file = file;
  }

  /** Appends one record; resolves when it is on disk (fsynced). */
  append(record: unknown): Promise<void> {
    const line = JSON.stringify(record) + "\n";
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ line, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      try {
        const handle = await this.#open();
        await handle.write(batch.map((p) => p.line).join(""));
        await handle.datasync();
        for (const p of batch) p.resolve();
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.#flushing = false;
  }

  #open(): Promise<FileHandle> {
    // The directory is fsynced once so the journal file itself survives a crash.
    this.#handle ??= mkdir(dirname(this.#file), { recursive: true }).then(async () => {
      await dropTornTail(this.#file);
      const handle = await open(this.#file, "a");
      await fsyncDir(dirname(this.#file));
      return handle;
    });
    return this.#handle;
  }

  /** Waits for pending appends and closes the file. */
  async close(): Promise<void> {
    while (this.#flushing || this.#pending.length > 0) await new Promise((r) => setTimeout(r, 1));
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle) await (await handle).close();
  }
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

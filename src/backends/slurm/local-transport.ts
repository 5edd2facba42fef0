/**
 * {@link Transport} for a controller running on a login node: commands run here through
 * `bash -c`, files are read and written directly.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { type FileHandle, mkdir, open, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { BackendError } from "../../errors.js";
import type { ExecOptions, ExecResult, ReadFileOptions, RemoteFile, Transport } from "./transport.js";

/** Runs Slurm commands on this machine. */
export class LocalTransport implements Transport {
  readonly kind = "local";

  /** Runs `command` with `bash -c`. */
  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const child = spawn("bash", ["-c", command], { stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      child.on("error", (error) => reject(new BackendError("slurm", `cannot run bash: ${error.message}`, { cause: error })));
      child.on("close", (code) => resolve({ stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), code }));
      child.stdin.on("error", () => {}); // the command may exit without reading stdin
      child.stdin.end(options.stdin ?? "");
    });
  }

  /** Reads a local file (or its tail). */
  async readFile(path: string, options: ReadFileOptions = {}): Promise<RemoteFile | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new BackendError("slurm", `cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      const { size } = await handle.stat();
      const length = options.tailBytes === undefined ? size : Math.min(size, options.tailBytes);
      const data = Buffer.alloc(length);
      let read = 0;
      while (read < length) {
        const { bytesRead } = await handle.read(data, read, length - read, size - length + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      return { data: data.subarray(0, read), size };
    } finally {
      await handle.close();
    }
  }

  /** Writes a local file. */
  async writeFile(path: string, data: string | Buffer, options: { mode?: number } = {}): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data, { mode: options.mode ?? 0o644 });
  }

  /** Nothing to release. */
  async close(): Promise<void> {}
}

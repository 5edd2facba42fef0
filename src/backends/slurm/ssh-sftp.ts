/**
 * The SFTP file operations of the SSH transport: reading a file or its tail in chunks, writing a
 * file with a mode.
 *
 * @module
 */
import type { ReadFileOptions, RemoteFile } from "./transport.js";

/** The SFTP calls used here (ssh2's SFTPWrapper; its types are not installed). */
export interface Sftp {
  open(path: string, flags: string, cb: (err: (Error & { code?: number }) | undefined, handle: Buffer) => void): void;
  fstat(handle: Buffer, cb: (err: Error | undefined, stats: { size: number }) => void): void;
  read(handle: Buffer, buf: Buffer, off: number, len: number, pos: number, cb: (err: Error | undefined, bytes: number) => void): void;
  close(handle: Buffer, cb: (err: Error | undefined) => void): void;
  writeFile(path: string, data: string | Buffer, options: { mode: number }, cb: (err: Error | undefined) => void): void;
}

/** Reads `path` (or its last `tailBytes`); `undefined` when it does not exist. */
export async function sftpRead(sftp: Sftp, path: string, options: ReadFileOptions): Promise<RemoteFile | undefined> {
  const handle = await new Promise<Buffer | undefined>((resolve, reject) => sftp.open(path, "r", (err, h) => (err ? (err.code === 2 ? resolve(undefined) : reject(err)) : resolve(h))));
  if (!handle) return undefined;
  try {
    const stats = await new Promise<{ size: number }>((resolve, reject) => sftp.fstat(handle, (err, s) => (err ? reject(err) : resolve(s))));
    const size = stats.size;
    const length = options.tailBytes === undefined ? size : Math.min(size, options.tailBytes);
    const data = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const chunk = Math.min(length - read, 32 * 1024);
      const n = await new Promise<number>((resolve, reject) => sftp.read(handle, data, read, chunk, size - length + read, (err, bytes) => (err ? reject(err) : resolve(bytes))));
      if (n === 0) break;
      read += n;
    }
    return { data: data.subarray(0, read), size };
  } finally {
    await new Promise<void>((resolve) => sftp.close(handle, () => resolve()));
  }
}

/** Writes `data` to `path` with `mode`. */
export function sftpWrite(sftp: Sftp, path: string, data: string | Buffer, mode: number): Promise<void> {
  return new Promise<void>((resolve, reject) => sftp.writeFile(path, data, { mode }, (err) => (err ? reject(err) : resolve())));
}

/**
 * Reading the end of a job's log file.
 *
 * @module
 */
import { open, stat } from "node:fs/promises";

/** Last `bytes` of a file ("" when it does not exist). */
export async function tailFile(file: string, bytes: number): Promise<string> {
  const info = await stat(file).catch(() => undefined);
  if (!info) return "";
  const handle = await open(file, "r");
  try {
    const start = Math.max(0, info.size - bytes);
    const buffer = Buffer.alloc(info.size - start);
    await handle.read(buffer, 0, buffer.length, start);
    return buffer.toString("utf8");
  } finally {
    await handle.close();
  }
}

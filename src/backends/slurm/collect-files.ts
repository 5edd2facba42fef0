/**
 * Bringing a finished Slurm job's files from its attempt directory on the cluster into its local
 * attempt directory: the log tails (capped, with a note of what was left out), the outputs
 * manifest and the exit-code marker (refused when over their limit).
 *
 * @module
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BackendError } from "../../errors.js";
import { OUTPUTS_FILE, STDERR_FILE, STDOUT_FILE } from "../queue-backend.js";
import { EXIT_CODE_FILE } from "./batch-script.js";
import type { Transport } from "./transport.js";

/** Largest log tail {@link collectFiles} brings back. */
const COLLECT_LOG_MAX = 16 * 1024 * 1024;
/** Largest outputs manifest {@link collectFiles} accepts. */
const COLLECT_MANIFEST_MAX = 16 * 1024 * 1024;

/** Copies the files of job `backendJobId` from `remoteDir` (via `transport`) into `attemptDir`. */
export async function collectFiles(transport: Transport, backendJobId: string, remoteDir: string, attemptDir: string): Promise<void> {
  await mkdir(attemptDir, { recursive: true });
  const files = [
    { name: STDOUT_FILE, max: COLLECT_LOG_MAX, log: true },
    { name: STDERR_FILE, max: COLLECT_LOG_MAX, log: true },
    { name: OUTPUTS_FILE, max: COLLECT_MANIFEST_MAX, log: false },
    { name: EXIT_CODE_FILE, max: 64, log: false },
  ];
  await Promise.all(
    files.map(async ({ name, max, log }) => {
      const read = await transport.readFile(`${remoteDir}/${name}`, { tailBytes: max });
      if (!read) {
        if (log) await writeFile(join(attemptDir, name), "");
        return;
      }
      if (!log && read.size > max) {
        throw new BackendError("slurm", `${name} of job ${backendJobId} is ${read.size} bytes (limit ${max}); not collected`);
      }
      const note = read.size > read.data.length ? `[gpu-dag: first ${read.size - read.data.length} bytes not collected]\n` : "";
      await writeFile(join(attemptDir, name), note ? Buffer.concat([Buffer.from(note), read.data]) : read.data);
    }),
  );
}

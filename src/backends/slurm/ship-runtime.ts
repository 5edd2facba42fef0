/**
 * Shipping the job-side Python runtime (`gpu_dag_runtime`) to the cluster: copied once per
 * content hash into `<jobDir>/.runtime/<hash>/`, so jobs on any node of the shared filesystem
 * import the exact version the controller rendered commands for.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, posix, relative } from "node:path";
import { shellQuote } from "../../args/shell-quote.js";
import type { Transport } from "./transport.js";

/** The runtime's files (relative path → content), skipping caches. */
export async function runtimeFiles(localDir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name === "__pycache__" || entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && /\.(py|ya?ml|json|txt)$/.test(entry.name)) files.set(relative(localDir, path), await readFile(path));
    }
  };
  await walk(localDir);
  return files;
}

/** Content hash of the runtime files. */
export function runtimeHash(files: ReadonlyMap<string, Buffer>): string {
  const hash = createHash("sha256");
  for (const [path, content] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) hash.update(path).update("\0").update(content).update("\0");
  return hash.digest("hex").slice(0, 16);
}

/**
 * Makes sure `<jobDir>/.runtime/<hash>` holds the runtime; returns that directory (what goes on
 * the job's PYTHONPATH). One exec when it is already there.
 */
export async function shipRuntime(transport: Transport, localDir: string, jobDir: string): Promise<string> {
  const files = await runtimeFiles(localDir);
  const remote = posix.join(jobDir, ".runtime", runtimeHash(files));
  const check = await transport.exec(`test -f ${shellQuote(posix.join(remote, ".complete"))} && echo present || echo absent`, { idempotent: true });
  if (check.stdout.trim() === "present") return remote;
  const dirs = new Set([...files.keys()].map((p) => posix.dirname(posix.join(remote, p.split("\\").join("/")))));
  await transport.exec(`mkdir -p ${[...dirs].map(shellQuote).join(" ")}`, { idempotent: true });
  for (const [path, content] of files) await transport.writeFile(posix.join(remote, path.split("\\").join("/")), content);
  await transport.writeFile(posix.join(remote, ".complete"), "");
  return remote;
}

/**
 * The runtime of one backend, shipped on first use (again after a failed try) and put first on
 * PYTHONPATH by {@link ShippedRuntime.setupLines}.
 */
export class ShippedRuntime {
  readonly #transport: Transport;
  readonly #localDir: string;
  #remote: Promise<string> | undefined;

  constructor(transport: Transport, localDir: string) {
    this.#transport = transport;
    this.#localDir = localDir;
  }

  /** Batch script setup lines putting the runtime, shipped under `jobDir`, on PYTHONPATH. */
  async setupLines(jobDir: string): Promise<string[]> {
    this.#remote ??= shipRuntime(this.#transport, this.#localDir, jobDir);
    const remote = await this.#remote.catch((error: unknown) => {
      this.#remote = undefined;
      throw error;
    });
    return [`export PYTHONPATH=${shellQuote(remote)}\${PYTHONPATH:+:$PYTHONPATH}`];
  }
}

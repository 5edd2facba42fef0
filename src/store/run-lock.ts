/**
 * One controller per run: a lock file with owner (host, pid) and a heartbeat. A lock whose owner
 * is a dead process on this host, or whose heartbeat is older than `staleMs`, is taken over.
 * Takeover is a rename of our own lock over the stale one, then a re-read to confirm that we won
 * the race against another controller doing the same.
 *
 * The heartbeat also watches the run directory: when it is removed or replaced (the store
 * deleted mid-run), or a heartbeat cannot be written (the store became unwritable), the lock's
 * `lost` signal fires with a {@link StoreError}, so the controller fails the run loudly instead
 * of carrying on into files nobody will read.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { link, open, readFile, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { RunLockedError, StoreError } from "../errors.js";
import { atomicWrite } from "./atomic-write.js";

/** A held lock. */
export interface RunLock {
  /** Owner text, e.g. `host:1234:ab12`. */
  readonly owner: string;
  /**
   * Aborted, with a {@link StoreError} as its `reason`, when the lock cannot be kept: the run
   * directory was removed or replaced, or a heartbeat could not be written.
   */
  readonly lost: AbortSignal;
  /** Stops the heartbeat and removes the lock (only if still ours). */
  release(): Promise<void>;
}

interface LockFile {
  owner: string;
  host: string;
  pid: number;
  heartbeatAt: number;
}

/** Options of {@link acquireRunLock}. */
export interface RunLockOptions {
  /** Heartbeat period (default 2 s). */
  heartbeatMs?: number;
  /** A heartbeat older than this is stale (default 15 s). */
  staleMs?: number;
}

/** Takes the lock at `<runDir>/lock.json` or throws {@link RunLockedError}. */
export async function acquireRunLock(runDir: string, runId: string, options: RunLockOptions = {}): Promise<RunLock> {
  const file = join(runDir, "lock.json");
  const heartbeatMs = options.heartbeatMs ?? 2000;
  const staleMs = options.staleMs ?? 15_000;
  const me: LockFile = { owner: `${hostname()}:${process.pid}:${randomBytes(2).toString("hex")}`, host: hostname(), pid: process.pid, heartbeatAt: Date.now() };

  if (!(await createExclusive(file, me))) {
    const current = await readLock(file);
    if (current && !isStale(current, staleMs)) throw new RunLockedError(runId, `${current.owner}, heartbeat ${Math.round((Date.now() - current.heartbeatAt) / 1000)}s ago`);
    await atomicWrite(file, JSON.stringify(me), { createDir: false });
    await new Promise((r) => setTimeout(r, 50)); // let a racing takeover land, then check who won
    const after = await readLock(file);
    if (after?.owner !== me.owner) throw new RunLockedError(runId, after?.owner ?? "unknown");
  }

  const dirAtStart = await stat(runDir);
  const lost = new AbortController();
  let beat: Promise<void> | undefined; // the heartbeat in flight; release() waits for it
  let released = false;
  const timer = setInterval(() => {
    if (beat || released || lost.signal.aborted) return;
    beat = (async () => {
      const dir = await stat(runDir).catch(() => undefined);
      if (!dir?.isDirectory() || dir.ino !== dirAtStart.ino || dir.dev !== dirAtStart.dev) {
        throw new StoreError(`run directory ${runDir} was ${dir ? "replaced" : "removed"} while the run was using it (store removed?)`, { path: runDir });
      }
      const current = await readLock(file);
      if (current?.owner !== me.owner) return; // taken over: stop claiming it
      await atomicWrite(file, JSON.stringify({ ...me, heartbeatAt: Date.now() }), { createDir: false }).catch((error: unknown) => {
        throw new StoreError(`cannot write the heartbeat of run ${runId}'s lock ${file}: ${(error as Error).message}`, { path: file, cause: error });
      });
    })()
      .catch((error: unknown) => {
        clearInterval(timer);
        lost.abort(error);
      })
      .finally(() => (beat = undefined));
  }, heartbeatMs);
  timer.unref();
  return {
    owner: me.owner,
    lost: lost.signal,
    release: async () => {
      released = true;
      clearInterval(timer);
      await beat; // else a heartbeat landing after the rm below would put the lock back
      const current = await readLock(file);
      if (current?.owner === me.owner) await rm(file, { force: true });
    },
  };
}

/** The lock's content, or `undefined` when there is none. */
export async function readLock(file: string): Promise<LockFile | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as LockFile;
  } catch {
    return undefined;
  }
}

/** True when the owner cannot be alive: dead pid on this host, or heartbeat too old. */
export function isStale(lock: LockFile, staleMs: number): boolean {
  if (lock.host === hostname()) {
    try {
      process.kill(lock.pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH") return true;
    }
  }
  return Date.now() - lock.heartbeatAt > staleMs;
}

async function createExclusive(file: string, content: LockFile): Promise<boolean> {
  const temp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temp, "wx");
  await handle.writeFile(JSON.stringify(content));
  await handle.sync();
  await handle.close();
  try {
    // link() fails if the target exists: an atomic "create if absent" with full content.
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

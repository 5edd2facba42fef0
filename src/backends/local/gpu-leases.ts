/**
 * Machine-wide GPU leases (DESIGN: "Leases, not pools"): a GPU held by a job is held for the
 * whole machine — every run, process and user — until the job's process tree ends, and the
 * holder's death frees it with nobody cleaning up.
 *
 * Mechanism: one lease file per GPU id, `<dir>/gpu-<id>.lock`, under one machine-wide directory
 * (default {@link DEFAULT_LEASE_DIR}, created mode 1777 like /tmp: anyone may add files, nobody
 * may delete another user's). A job's wrapper shell holds an exclusive `flock(2)` on each of its
 * GPUs' lease files, taken with `flock -n` (util-linux) on fds the backend opened for it (4, 5, …
 * in ascending GPU order), before it runs anything. A flock belongs to the open file description,
 * which the job's whole process tree inherits, so the kernel drops the lease when the last process
 * of the job holding it exits: a SIGKILL of the job, the controller or both frees the GPU, and an
 * orphaned grandchild still on the GPU keeps it.
 *
 * Why this and not another lock:
 * - pid files (`O_EXCL` + "is the pid alive?") need someone to remove stale leases (a race between
 *   the check and the removal) and are wrong for a job tree that outlives its wrapper;
 * - a lock held by the controller (Node has no flock anyway) would die with the controller while
 *   its jobs keep running;
 * - a blocking flock in the wrapper would let the kernel, not the run's priority, order waiting
 *   jobs, keep a process per waiting job, and deadlock two jobs each holding one GPU of the other's
 *   pair. So the wrapper only tries (`-n`), all or nothing: if any lease is taken it exits with
 *   {@link LEASE_BUSY_EXIT} having run nothing, its locks dropped with it, and the backend queues
 *   the job again.
 *
 * The controller sees which leases are taken without forking: `/proc/locks` lists every flock with
 * its file's device and inode, matched against the lease files' `stat`. That is a hint for
 * scheduling only; the kernel's flock is the arbiter, so a race between two controllers costs one
 * wrapper that exits busy, never two jobs on one GPU.
 *
 * Who holds a GPU: after taking its locks the wrapper writes `<dir>/gpu-<id>.holder`
 * (`{"pid":…,"runId":…,"step":…,"attempt":…,"user":…}`), read by waiters to say
 * `waiting for GPU: GPU 0 held by run X step Y (pid N)`. It is only read while the lease is held.
 *
 * All pools of one process share one {@link GpuLeases} per directory, so two runs in one process
 * also see each other's GPUs (before a wrapper has locked them) and wake when one is freed.
 *
 * @module
 */
import { accessSync, chmodSync, closeSync, constants, mkdirSync, openSync, readFileSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { BackendError } from "../../errors.js";

/** The machine-wide lease directory unless {@link LEASE_DIR_ENV} or the config says otherwise. */
export const DEFAULT_LEASE_DIR = "/tmp/gpu-dag-leases";
/** Environment variable naming the lease directory (the local cluster config's `leaseDir` wins). */
export const LEASE_DIR_ENV = "GPU_DAG_LEASE_DIR";
/** Exit code of a wrapper that found one of its GPUs leased by someone else (it ran nothing). */
export const LEASE_BUSY_EXIT = 87;

/** The lease directory: `explicit` (config / option), else `$GPU_DAG_LEASE_DIR`, else the default. */
export function resolveLeaseDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return explicit ?? (env[LEASE_DIR_ENV] || DEFAULT_LEASE_DIR);
}

/** Who holds a lease, as its `.holder` file (or this process) says. */
export interface LeaseHolder {
  runId: string;
  step: string;
  attempt: number;
  user: string;
  /** The job's wrapper (its process group), once started. */
  pid?: number;
}

/** `run X step Y (pid N)`, or a plain phrase when nobody recorded themselves. */
export function describeHolder(holder: LeaseHolder | undefined): string {
  if (!holder) return "another process (no holder recorded)";
  return `run ${holder.runId} step ${holder.step}${holder.attempt > 1 ? ` (attempt ${holder.attempt})` : ""}${holder.pid !== undefined ? ` (pid ${holder.pid})` : ""}`;
}

const registry = new Map<string, GpuLeases>();

/** The lease files of one directory, and who in this process holds which. See the module comment. */
export class GpuLeases {
  /** The lease table of `dir` for this process (one per directory). */
  static for(dir: string): GpuLeases {
    let leases = registry.get(dir);
    if (!leases) {
      leases = new GpuLeases(dir);
      registry.set(dir, leases);
    }
    return leases;
  }

  readonly dir: string;
  /** Devices held by jobs of any pool in this process, with their holder. */
  readonly #held = new Map<string, LeaseHolder | undefined>();
  readonly #listeners = new Set<() => void>();
  readonly #prepared = new Set<string>();

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** The lease file of `device`. */
  lockPath(device: string): string {
    return join(this.dir, `gpu-${safeName(device)}.lock`);
  }

  /** The file naming who holds `device`. */
  holderPath(device: string): string {
    return join(this.dir, `gpu-${safeName(device)}.holder`);
  }

  /**
   * Makes the directory (mode 1777 when this process creates it) and the lease and holder files
   * (world-readable lease files; world-writable holder files, for other users' jobs), once.
   */
  prepare(devices: readonly string[]): void {
    const missing = devices.filter((d) => !this.#prepared.has(d));
    if (missing.length === 0) return;
    try {
      const created = mkdirSync(this.dir, { recursive: true, mode: 0o1777 });
      if (created === this.dir) chmodSync(this.dir, 0o1777); // the umask took bits off
      for (const device of missing) {
        for (const [file, mode] of [
          [this.lockPath(device), 0o644],
          [this.holderPath(device), 0o666],
        ] as const) {
          let fd: number;
          try {
            fd = openSync(file, constants.O_CREAT | constants.O_EXCL | constants.O_RDONLY, mode);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
            continue; // someone made it first (maybe another user): fine as it is
          }
          closeSync(fd);
          chmodSync(file, mode);
        }
        this.#prepared.add(device);
      }
    } catch (error) {
      throw new BackendError(
        "local",
        `cannot prepare GPU lease files in ${this.dir} (${(error as Error).message}); it must be one directory every user of this machine can write (mode 1777), set with ${LEASE_DIR_ENV} or the local cluster config's leaseDir`,
      );
    }
  }

  /** Opens `device`'s lease file read-only, for a wrapper to lock (flock needs no write access). */
  openLock(device: string): number {
    return openSync(this.lockPath(device), "r");
  }

  /**
   * Devices among `devices` whose lease file someone (any process) holds a flock on now, from
   * `/proc/locks`. Empty where `/proc/locks` cannot be read: then only the wrapper's try decides.
   */
  lockedNow(devices: readonly string[]): Set<string> {
    const locked = new Set<string>();
    let table: string;
    try {
      table = readFileSync("/proc/locks", "utf8");
    } catch {
      return locked;
    }
    const held = new Set<string>();
    for (const line of table.split("\n")) {
      const m = /^\d+:\s+FLOCK\s+\S+\s+\S+\s+-?\d+\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
      if (m) held.add(`${Number.parseInt(m[1]!, 16)}:${Number.parseInt(m[2]!, 16)}:${m[3]}`);
    }
    if (held.size === 0) return locked;
    for (const device of devices) {
      const key = fileKey(this.lockPath(device));
      if (key !== undefined && held.has(key)) locked.add(device);
    }
    return locked;
  }

  /** Who holds `device`: this process's record of it, else its holder file. */
  holderOf(device: string): LeaseHolder | undefined {
    const local = this.#held.get(device);
    if (local) return local;
    try {
      const parsed = JSON.parse(readFileSync(this.holderPath(device), "utf8")) as Partial<LeaseHolder>;
      if (typeof parsed.runId !== "string" || typeof parsed.step !== "string") return undefined;
      return {
        runId: parsed.runId,
        step: parsed.step,
        attempt: typeof parsed.attempt === "number" ? parsed.attempt : 1,
        user: typeof parsed.user === "string" ? parsed.user : "?",
        ...(typeof parsed.pid === "number" ? { pid: parsed.pid } : {}),
      };
    } catch {
      return undefined; // not written yet, or being rewritten: no name to give
    }
  }

  /** True when a pool of this process holds `device`. */
  heldHere(device: string): boolean {
    return this.#held.has(device);
  }

  /** Records that a pool of this process handed `devices` to a job (its wrapper locks them soon). */
  hold(devices: readonly string[], holder: LeaseHolder | undefined): void {
    for (const device of devices) this.#held.set(device, holder);
  }

  /** Forgets `devices` and wakes every pool of this process that waits for GPUs. */
  free(devices: readonly string[]): void {
    for (const device of devices) this.#held.delete(device);
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch {
        // One pool's failure must not keep the others waiting for devices that are free.
      }
    }
  }

  /** Calls `listener` whenever a pool of this process frees devices. Returns the unsubscribe. */
  onFree(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * The wrapper's lease step for `devices` (sorted ascending, their lease files opened on fds
 * {@link LOCK_FD_BASE}, …): try each lock, exit {@link LEASE_BUSY_EXIT} on the first taken (`exit`
 * drops the others with the shell), write the holder files, then tell the backend on fd
 * {@link NOTIFY_FD} that it holds them (a byte; the fd is closed before the job runs). One `flock`
 * process per GPU; jobs without GPUs skip this entirely.
 */
export function leaseScript(leases: GpuLeases, devices: readonly string[], holder: Omit<LeaseHolder, "pid">, quote: (s: string) => string): string {
  const locks = devices.map((_, i) => `flock -n -E ${LEASE_BUSY_EXIT} ${i + LOCK_FD_BASE} || exit; `).join("");
  const { runId, step, attempt, user } = holder;
  const fields = JSON.stringify({ runId, step, attempt, user }).slice(1, -1);
  const writes = devices.map((d) => `{ printf '{"pid":%s,%s}\\n' "$$" ${quote(fields)} > ${quote(leases.holderPath(d))}; } 2>/dev/null; `).join("");
  return `${locks}${writes}printf x >&${NOTIFY_FD}; exec ${NOTIFY_FD}>&-; `;
}

/** The fd on which a GPU job's wrapper says it holds its leases (a pipe to the backend). */
export const NOTIFY_FD = 3;
/** The fd of a GPU job's first lease file (then one per GPU, ascending). */
export const LOCK_FD_BASE = 4;

/** Devices in ascending id order (numeric ids by value): the order every wrapper locks them in. */
export function lockOrder(devices: readonly string[]): string[] {
  return [...devices].sort((a, b) => {
    const x = Number(a);
    const y = Number(b);
    return Number.isInteger(x) && Number.isInteger(y) ? x - y : a < b ? -1 : a > b ? 1 : 0;
  });
}

/** True when an executable `flock` is on `PATH` (checked without forking). */
export function hasFlock(env: NodeJS.ProcessEnv = process.env): boolean {
  for (const dir of (env["PATH"] ?? "/usr/bin:/bin").split(delimiter)) {
    try {
      accessSync(join(dir || ".", "flock"), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

function safeName(device: string): string {
  return device.replace(/[^A-Za-z0-9_.-]/g, "_");
}

/** `major:minor:inode` of a file as /proc/locks writes it (Linux dev_t encoding). */
function fileKey(file: string): string | undefined {
  try {
    const s = statSync(file, { bigint: true });
    const major = ((s.dev >> 8n) & 0xfffn) | ((s.dev >> 32n) & ~0xfffn);
    const minor = (s.dev & 0xffn) | ((s.dev >> 12n) & ~0xffn);
    return `${major}:${minor}:${s.ino}`;
  } catch {
    return undefined;
  }
}

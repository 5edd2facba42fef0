/**
 * A pool of GPU ids handed to one backend's jobs: each job gets its own devices, never shared.
 * Waiting jobs are started greedily by priority (then larger GPU demand, then arrival), and a
 * smaller job may pass a larger one that does not fit yet (backfill), so GPUs do not sit idle.
 *
 * With {@link GpuLeases} the pool is one view of machine-wide leases (see gpu-leases.ts): a device
 * is free only when no job of this pool holds it, no other pool of this process holds it, and no
 * process on the machine holds its lease file (`/proc/locks`). The scheduling policy above orders
 * this pool's own jobs; GPUs held by others are simply unavailable until freed. Others in this
 * process wake the pool when they free a device; for other processes the pool re-reads
 * `/proc/locks` every {@link FOREIGN_POLL_MS} ms, only while a job waits on such a device.
 *
 * A waiter is told why it waits when others (not this pool's own jobs) hold GPUs it could use:
 * `waiting for GPU: GPU 0 held by run X step Y (pid N)`; and told again (`undefined`) when that
 * no longer holds. Waiting behind the pool's own jobs is ordinary queueing and has no reason.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { describeHolder, type GpuLeases, type LeaseHolder } from "./gpu-leases.js";

/** How often a pool re-reads `/proc/locks` while a job waits for a GPU another process holds. */
export const FOREIGN_POLL_MS = 100;
/** How long a device a wrapper found taken counts as taken, whatever `/proc/locks` said. */
const BUSY_HOLD_MS = 250;

/** Options of {@link GpuPool.acquire}. */
export interface AcquireOptions {
  /** Who will hold the devices (shown to waiters elsewhere in this process). */
  holder?: LeaseHolder;
  /** Called when the reason the job waits changes (`undefined`: no reason worth showing). */
  onWait?: (reason: string | undefined) => void;
  /** Keep this arrival order (a job queued again after its wrapper found a GPU taken). */
  seq?: number;
}

interface Waiter {
  gpus: number;
  priority: number;
  seq: number;
  holder: LeaseHolder | undefined;
  grant: (devices: string[]) => void;
  onWait: ((reason: string | undefined) => void) | undefined;
  reason?: string | undefined;
}

/** A granted acquisition. */
export interface Acquisition {
  promise: Promise<string[]>;
  /** Removes the waiter; false when it was already granted. */
  cancel: () => boolean;
  /** The waiter's arrival order, for {@link AcquireOptions.seq}. */
  seq: number;
}

/** The GPU pool. `slots` additionally bounds how many jobs hold the pool at once. */
export class GpuPool {
  readonly devices: readonly string[];
  /** Devices this pool's jobs hold. */
  readonly #own = new Set<string>();
  readonly #maxJobs: number;
  readonly #leases: GpuLeases | undefined;
  readonly #busyUntil = new Map<string, number>();
  readonly #unsubscribe: (() => void) | undefined;
  #running = 0;
  #waiting: Waiter[] = [];
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Open {@link GpuPool.batch} calls: dispatch waits until the last one ends. */
  #batching = 0;

  constructor(devices: readonly string[], maxJobs = Number.POSITIVE_INFINITY, leases?: GpuLeases) {
    this.devices = [...devices];
    this.#maxJobs = maxJobs;
    this.#leases = devices.length > 0 ? leases : undefined;
    this.#leases?.prepare(this.devices);
    this.#unsubscribe = this.#leases?.onFree(() => this.#dispatch());
  }

  /** Number of GPUs in the pool. */
  get size(): number {
    return this.devices.length;
  }

  /** The lease table this pool shares, when it has one. */
  get leases(): GpuLeases | undefined {
    return this.#leases;
  }

  /** Resolves with `gpus` device ids once they are free. Throws at once if the pool can never satisfy it. */
  acquire(gpus: number, priority = 0, options: AcquireOptions = {}): Acquisition {
    if (gpus > this.devices.length) {
      throw new RangeError(`job asks for ${gpus} GPU(s) but the pool has ${this.devices.length}`);
    }
    let waiter!: Waiter;
    const seq = options.seq ?? this.#seq++;
    const promise = new Promise<string[]>((grant) => {
      waiter = { gpus, priority, seq, holder: options.holder, grant, onWait: options.onWait };
    });
    this.#insert(waiter);
    if (this.#batching === 0) this.#dispatch();
    return {
      promise,
      seq,
      cancel: () => {
        const index = this.#waiting.indexOf(waiter);
        if (index === -1) return false;
        this.#waiting.splice(index, 1);
        this.#dispatch(); // a smaller job behind it may fit now, and the poll may stop
        return true;
      },
    };
  }

  /**
   * Runs `fn` (which acquires for a batch of jobs) and dispatches once after it: the jobs of one
   * submission are ordered by priority among themselves, not by their place in the batch (else the
   * first of them takes a free GPU before a more urgent one behind it has even asked).
   */
  batch<T>(fn: () => T): T {
    this.#batching += 1;
    try {
      return fn();
    } finally {
      this.#batching -= 1;
      if (this.#batching === 0) this.#dispatch();
    }
  }

  /**
   * Marks devices as held by a job the pool did not start (one adopted after a controller
   * restart, still running on them and holding their leases), so they are not handed out twice.
   * Returns the devices it could claim; give them back with {@link GpuPool.release}.
   */
  claim(devices: readonly string[], holder?: LeaseHolder): string[] {
    const claimed = devices.filter((d) => this.devices.includes(d) && !this.#own.has(d));
    for (const device of claimed) this.#own.add(device);
    this.#leases?.hold(claimed, holder);
    this.#running += 1;
    return claimed;
  }

  /**
   * Returns devices to the pool and starts whatever now fits. `busy`: the job's wrapper found one
   * of them leased by someone else and ran nothing; they count as taken for a moment.
   */
  release(devices: readonly string[], options: { busy?: boolean } = {}): void {
    this.#running -= 1;
    for (const device of devices) this.#own.delete(device);
    if (options.busy) for (const device of devices) this.#busyUntil.set(device, Date.now() + BUSY_HOLD_MS);
    // Wakes every pool of this process on these leases, this one included.
    if (this.#leases) this.#leases.free(devices);
    else this.#dispatch();
  }

  /** Stops watching leases. Waiters stay unserved. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#stopPoll();
  }

  #insert(waiter: Waiter): void {
    const before = (a: Waiter, b: Waiter) => (a.priority !== b.priority ? a.priority > b.priority : a.gpus !== b.gpus ? a.gpus > b.gpus : a.seq < b.seq);
    let i = this.#waiting.length;
    while (i > 0 && before(waiter, this.#waiting[i - 1]!)) i--;
    this.#waiting.splice(i, 0, waiter);
  }

  /** Devices held outside this pool: by another pool here (`here`) or by another process. */
  #foreign(): { here: Set<string>; elsewhere: Set<string> } {
    const here = new Set<string>();
    const elsewhere = new Set<string>();
    const leases = this.#leases;
    // Only a waiter for GPUs needs to know (CPU jobs in a GPU pool wait for a slot only).
    if (!leases || !this.#waiting.some((w) => w.gpus > 0)) return { here, elsewhere };
    const candidates = this.devices.filter((d) => !this.#own.has(d));
    const locked = leases.lockedNow(candidates);
    const now = Date.now();
    for (const device of candidates) {
      if (leases.heldHere(device)) here.add(device);
      else if (locked.has(device) || (this.#busyUntil.get(device) ?? 0) > now) elsewhere.add(device);
    }
    return { here, elsewhere };
  }

  #dispatch(): void {
    if (this.#closed) return;
    const { here, elsewhere } = this.#foreign();
    const free = this.devices.filter((d) => !this.#own.has(d) && !here.has(d) && !elsewhere.has(d));
    let blockedByOthers = false;
    for (let i = 0; i < this.#waiting.length && this.#running < this.#maxJobs; ) {
      const waiter = this.#waiting[i]!;
      if (waiter.gpus <= free.length) {
        this.#waiting.splice(i, 1);
        this.#running += 1;
        const devices = free.splice(0, waiter.gpus);
        for (const device of devices) this.#own.add(device);
        this.#leases?.hold(devices, waiter.holder);
        if (waiter.reason !== undefined) waiter.onWait?.(undefined);
        waiter.grant(devices);
        continue;
      }
      // It would fit without others' holdings: say whose.
      const othersHold = [...here, ...elsewhere];
      if (othersHold.length > 0 && waiter.gpus <= free.length + othersHold.length) {
        blockedByOthers ||= elsewhere.size > 0;
        this.#tell(waiter, this.#reason(othersHold));
      } else this.#tell(waiter, undefined);
      i++;
    }
    if (blockedByOthers) this.#startPoll();
    else this.#stopPoll();
  }

  #reason(devices: readonly string[]): string {
    const ordered = this.devices.filter((d) => devices.includes(d));
    return `waiting for GPU: ${ordered.map((d) => `GPU ${d} held by ${describeHolder(this.#leases?.holderOf(d))}`).join("; ")}`;
  }

  #tell(waiter: Waiter, reason: string | undefined): void {
    if (waiter.reason === reason) return;
    waiter.reason = reason;
    waiter.onWait?.(reason);
  }

  #startPoll(): void {
    if (this.#timer) return;
    // Not unref'd: a run whose jobs wait for another process's GPUs must stay alive to start them.
    this.#timer = setInterval(() => this.#dispatch(), FOREIGN_POLL_MS);
  }

  #stopPoll(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * GPUs on this machine: `CUDA_VISIBLE_DEVICES` when set, else `nvidia-smi -L`, else none.
 */
export function detectGpus(env: NodeJS.ProcessEnv = process.env): string[] {
  const visible = env["CUDA_VISIBLE_DEVICES"];
  if (visible !== undefined)
    return visible
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "" && s !== "-1");
  try {
    const out = execFileSync("nvidia-smi", ["-L"], { encoding: "utf8", timeout: 5000, stdio: ["ignore", "pipe", "ignore"] });
    return out
      .split("\n")
      .filter((l) => l.startsWith("GPU "))
      .map((_, i) => String(i));
  } catch {
    return [];
  }
}

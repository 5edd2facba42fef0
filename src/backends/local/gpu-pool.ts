/**
 * A pool of GPU ids handed to jobs: each job gets its own devices, never shared.
 * Waiting jobs are started greedily by priority (then larger GPU demand, then arrival), and a
 * smaller job may pass a larger one that does not fit yet (backfill), so GPUs do not sit idle.
 *
 * @module
 */
import { execFileSync } from "node:child_process";

interface Waiter {
  gpus: number;
  priority: number;
  seq: number;
  grant: (devices: string[]) => void;
}

/** The GPU pool. `slots` additionally bounds how many jobs hold the pool at once. */
export class GpuPool {
  readonly devices: readonly string[];
  readonly #free: string[];
  readonly #maxJobs: number;
  #running = 0;
  #waiting: Waiter[] = [];
  #seq = 0;

  constructor(devices: readonly string[], maxJobs = Number.POSITIVE_INFINITY) {
    this.devices = [...devices];
    this.#free = [...devices];
    this.#maxJobs = maxJobs;
  }

  /** Number of GPUs in the pool. */
  get size(): number {
    return this.devices.length;
  }

  /** Resolves with `gpus` device ids once they are free. Throws at once if the pool can never satisfy it. */
  acquire(gpus: number, priority = 0): { promise: Promise<string[]>; cancel: () => boolean } {
    if (gpus > this.devices.length) {
      throw new RangeError(`job asks for ${gpus} GPU(s) but the pool has ${this.devices.length}`);
    }
    let waiter!: Waiter;
    const promise = new Promise<string[]>((grant) => {
      waiter = { gpus, priority, seq: this.#seq++, grant };
    });
    this.#insert(waiter);
    this.#dispatch();
    return {
      promise,
      cancel: () => {
        const index = this.#waiting.indexOf(waiter);
        if (index === -1) return false;
        this.#waiting.splice(index, 1);
        return true;
      },
    };
  }

  /**
   * Marks devices as held by a job the pool did not start (one adopted after a controller
   * restart, still running on them), so they are not handed out twice. Returns the devices it
   * could claim; give them back with {@link GpuPool.release}.
   */
  claim(devices: readonly string[]): string[] {
    const claimed = devices.filter((d) => this.#free.includes(d));
    for (const device of claimed) this.#free.splice(this.#free.indexOf(device), 1);
    this.#running += 1;
    return claimed;
  }

  /** Returns devices to the pool and starts whatever now fits. */
  release(devices: readonly string[]): void {
    this.#running -= 1;
    this.#free.push(...devices);
    // Keep the free list in pool order so device assignment is predictable.
    this.#free.sort((a, b) => this.devices.indexOf(a) - this.devices.indexOf(b));
    this.#dispatch();
  }

  #insert(waiter: Waiter): void {
    const before = (a: Waiter, b: Waiter) =>
      a.priority !== b.priority ? a.priority > b.priority : a.gpus !== b.gpus ? a.gpus > b.gpus : a.seq < b.seq;
    let i = this.#waiting.length;
    while (i > 0 && before(waiter, this.#waiting[i - 1]!)) i--;
    this.#waiting.splice(i, 0, waiter);
  }

  #dispatch(): void {
    for (let i = 0; i < this.#waiting.length && this.#running < this.#maxJobs; ) {
      const waiter = this.#waiting[i]!;
      if (waiter.gpus <= this.#free.length) {
        this.#waiting.splice(i, 1);
        this.#running += 1;
        waiter.grant(this.#free.splice(0, waiter.gpus));
      } else i++;
    }
  }
}

/**
 * GPUs on this machine: `CUDA_VISIBLE_DEVICES` when set, else `nvidia-smi -L`, else none.
 */
export function detectGpus(env: NodeJS.ProcessEnv = process.env): string[] {
  const visible = env["CUDA_VISIBLE_DEVICES"];
  if (visible !== undefined) return visible.split(",").map((s) => s.trim()).filter((s) => s !== "" && s !== "-1");
  try {
    const out = execFileSync("nvidia-smi", ["-L"], { encoding: "utf8", timeout: 5000, stdio: ["ignore", "pipe", "ignore"] });
    return out.split("\n").filter((l) => l.startsWith("GPU ")).map((_, i) => String(i));
  } catch {
    return [];
  }
}

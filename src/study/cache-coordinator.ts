/**
 * Steps that are the same in every trial (the base model's evaluation, a compression that does not
 * depend on the searched parameter) run once per study even when trials run at the same time.
 * The step cache (`cacheExecutedStep`) alone cannot do that: two trials that start together both
 * miss it. Each trial's run sees the study's store through {@link CacheCoordinator.storeFor}: a
 * cache miss *claims* the key for that run; another trial's lookup of a claimed key waits until
 * the holder recorded the step's outputs (then it is a hit) or gave up on it (its attempt failed,
 * its run finished), and then looks again.
 *
 * Deadlock-free: a run's batch of ready steps is prepared together, so a run waiting on one key
 * may hold others unsubmitted. A lookup therefore never waits on a holder that is itself waiting;
 * it runs the step instead (a duplicate, never a hang). Every wait edge points at a run that is
 * not waiting, so waits form no cycle.
 *
 * After a crash, {@link CacheCoordinator.adopt} re-claims the keys of attempts a resumed trial
 * will adopt (planned, not finished), and writes a cache entry a success was recorded without
 * (the controller died between the two writes). A resumed run does not write the cache entry of
 * an adopted attempt's success itself, so the coordinator writes it when that success is journaled.
 *
 * @module
 */
import type { CacheEntry, JournalEntry } from "../store/records.js";
import type { Store } from "../store/store.js";

interface Claim {
  runId: string;
  /** The step that claimed it, once its `attempt-planned` names the key. */
  step?: string;
  /** Claimed by {@link CacheCoordinator.adopt} for an attempt a resumed run adopts. */
  adopted?: boolean;
  released: Promise<void>;
  release: () => void;
}

/** See the module comment. */
export class CacheCoordinator {
  readonly #store: Store;
  readonly #claims = new Map<string, Claim>();
  /** Lookups each run has waiting. */
  readonly #waiting = new Map<string, number>();

  constructor(store: Store) {
    this.#store = store;
  }

  /** The store as run `runId` sees it: the study's, with coordinated cache lookups. */
  storeFor(runId: string): Store {
    const overrides: Partial<Store> = {
      getCacheEntry: (key) => this.#lookup(runId, key),
      putCacheEntry: async (entry) => {
        await this.#store.putCacheEntry(entry);
        this.#release(entry.key);
      },
      appendJournal: async (id, entry) => {
        await this.#store.appendJournal(id, entry);
        if (id === runId) await this.#watch(runId, entry);
      },
    };
    // Everything else is the study's store itself (methods bound to it: private fields work).
    return new Proxy(this.#store, {
      get(target, property) {
        if (typeof property === "string" && property in overrides) return overrides[property as keyof Store];
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** Before run `runId` resumes: claim what it will adopt, repair a cache entry its crash left unwritten. */
  async adopt(runId: string, entries: readonly JournalEntry[]): Promise<void> {
    const open = new Map<string, string>(); // step → key of its latest planned attempt
    for (const entry of entries) {
      if (entry.type === "attempt-planned" && entry.cacheKey) open.set(entry.step, entry.cacheKey);
      if (entry.type !== "attempt-finished") continue;
      const key = open.get(entry.step);
      open.delete(entry.step);
      if (key && entry.status === "succeeded" && entry.outputs && !(await this.#store.getCacheEntry(key))) {
        await this.#store.putCacheEntry({ key, runId, step: entry.step, outputs: entry.outputs, createdAt: new Date(entry.at).toISOString() } satisfies CacheEntry);
      }
    }
    for (const [step, key] of open) if (!this.#claims.has(key)) this.#claim(key, runId, step, true);
  }

  /** Run `runId` is over (however it ended): whatever it still claims is free. */
  releaseRun(runId: string): void {
    for (const [key, claim] of this.#claims) if (claim.runId === runId) this.#release(key);
  }

  async #lookup(runId: string, key: string): Promise<CacheEntry | undefined> {
    for (;;) {
      const claim = this.#claims.get(key);
      if (claim && claim.runId !== runId && !this.#waiting.get(claim.runId)) {
        this.#waiting.set(runId, (this.#waiting.get(runId) ?? 0) + 1);
        try {
          await claim.released;
        } finally {
          this.#waiting.set(runId, this.#waiting.get(runId)! - 1);
        }
        continue;
      }
      const hit = await this.#store.getCacheEntry(key);
      if (hit) return hit;
      const now = this.#claims.get(key);
      if (now && now.runId !== runId && !this.#waiting.get(now.runId)) continue; // claimed meanwhile: wait for it
      if (!now) this.#claim(key, runId);
      return undefined;
    }
  }

  #claim(key: string, runId: string, step?: string, adopted = false): void {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    this.#claims.set(key, { runId, ...(step ? { step } : {}), ...(adopted ? { adopted } : {}), released, release });
  }

  #release(key: string): void {
    const claim = this.#claims.get(key);
    this.#claims.delete(key);
    claim?.release();
  }

  /** Journal entries that bind a claim to its step, or end it. */
  async #watch(runId: string, entry: JournalEntry): Promise<void> {
    if (entry.type === "attempt-finished" && entry.status === "succeeded" && entry.outputs) {
      // A resumed run does not write the cache entry of a step whose job it adopted (it does not
      // know the key the crashed controller planned with): written here, so the others reuse it.
      for (const [key, claim] of [...this.#claims]) {
        if (claim.runId !== runId || claim.step !== entry.step || !claim.adopted) continue;
        if (!(await this.#store.getCacheEntry(key))) await this.#store.putCacheEntry({ key, runId, step: entry.step, outputs: entry.outputs, createdAt: new Date().toISOString() });
        this.#release(key);
      }
    } else if (entry.type === "attempt-planned" && entry.cacheKey) {
      const claim = this.#claims.get(entry.cacheKey);
      if (claim?.runId === runId) claim.step = entry.step;
    } else if (entry.type === "attempt-finished" && entry.status !== "succeeded") {
      // Its step's claim ends (a retry looks the key up again); so do claims no attempt was planned
      // for yet: a launch failure ends the attempt before it is planned.
      for (const [key, claim] of this.#claims) if (claim.runId === runId && (claim.step === entry.step || claim.step === undefined)) this.#release(key);
    } else if (entry.type === "step-skipped" || entry.type === "run-finished") {
      for (const [key, claim] of this.#claims) if (claim.runId === runId && (entry.type === "run-finished" || claim.step === undefined)) this.#release(key);
    }
  }
}

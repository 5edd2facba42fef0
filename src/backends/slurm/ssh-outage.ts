/**
 * What the SSH transport tells about its connection, as {@link BackendNotice}s: a
 * `connection-lost` per failed attempt while it is down (attempt number, next delay), one
 * `connection-restored` when it is back, one `connection-refused` for a permanent refusal — and
 * the backoff delay between attempts (doubling from a base, at most 5 s, ±50 % jitter, never past
 * the deadline).
 *
 * @module
 */
import type { GpuDagError } from "../../errors.js";
import type { BackendNotice, BackendNoticeListener } from "../queue-backend.js";

/** The delay before connection attempt `attempt + 1` (0-based `attempt`), in ms. */
export function backoffDelay(baseMs: number, attempt: number, deadline: number): number {
  return Math.min(Math.min(5000, baseMs * 2 ** attempt) * (0.5 + Math.random()), Math.max(0, deadline - Date.now()));
}

/** The connection's outages and their notices, for one target; see the module comment. */
export class ConnectionNotices {
  readonly #targetOf: () => string;
  readonly #listeners = new Set<BackendNoticeListener>();
  /** While the connection is down: since when, and failed attempts so far. */
  #outage: { since: number; attempts: number; firstConnect: boolean } | undefined;
  #everConnected = false;

  /** `target` names the connection in notices: a name, or a function asked each time (it may be learnt later). */
  constructor(target: string | (() => string)) {
    this.#targetOf = typeof target === "string" ? () => target : target;
  }

  get #target(): string {
    return this.#targetOf();
  }

  /** Listens for notices; returns the unsubscriber. */
  onNotice(listener: BackendNoticeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The connection is up: ends an outage (and says so, if there was one). */
  connected(): void {
    const outage = this.#outage;
    this.#outage = undefined;
    this.#everConnected = true;
    if (outage) this.#notify({ kind: "connection-restored", target: this.#target, downMs: Date.now() - outage.since, attempts: outage.attempts });
  }

  /** An attempt failed with `error`; the next one follows in `retryInMs`. */
  attemptFailed(error: unknown, retryInMs: number): void {
    this.#outage ??= { since: Date.now(), attempts: 0, firstConnect: !this.#everConnected };
    this.#outage.attempts += 1;
    this.#notify({
      kind: "connection-lost",
      target: this.#target,
      attempt: this.#outage.attempts,
      retryInMs: Math.round(retryInMs),
      firstConnect: this.#outage.firstConnect,
      error: (error as Error).message,
    });
  }

  /** The connection was refused for good with `error`. */
  refused(error: GpuDagError): void {
    this.#notify({ kind: "connection-refused", target: this.#target, error });
  }

  #notify(notice: BackendNotice): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(notice);
      } catch {
        // a listener's failure is its own
      }
    }
  }
}

/**
 * A run's journal writer: every entry is scrubbed of the secret values handed to its jobs before
 * it is appended (fsynced by the store), and writes not awaited where they were made are tracked
 * so the run finishes only once they are durable.
 *
 * @module
 */
import type { JobSpec } from "../backends/queue-backend.js";
import type { JournalEntry } from "../store/records.js";
import { MIN_SCRUB_LENGTH, scrubDeep, scrubText, secretValues } from "../store/redact.js";
import type { Store } from "../store/store.js";

/** See the module comment. */
export class RunJournal {
  readonly #store: Store;
  readonly #runId: string;
  readonly #onWriteError: (error: unknown) => void;
  /** Secret values handed to jobs (see `store/redact.ts`): scrubbed from everything journaled or emitted. */
  readonly #secrets = new Set<string>();
  readonly #pending = new Set<Promise<void>>();

  /** `onWriteError` hears of a tracked write that failed (the run cannot go on). */
  constructor(store: Store, runId: string, onWriteError: (error: unknown) => void) {
    this.#store = store;
    this.#runId = runId;
    this.#onWriteError = onWriteError;
  }

  /** Remembers the secret values a job gets, so no copy of them is journaled or emitted. */
  learnSecrets(spec: Pick<JobSpec, "env" | "secretEnv">): void {
    for (const value of secretValues(spec.env, spec.secretEnv)) if (value.length >= MIN_SCRUB_LENGTH) this.#secrets.add(value);
  }

  /** `text` with every known secret value replaced. */
  scrub(text: string): string {
    return scrubText(text, this.#secrets);
  }

  /** Appends `entry`, scrubbed; resolves once it is durable. */
  append(entry: JournalEntry): Promise<void> {
    // Every string is scrubbed of known secret values, except a planned argv: it is resubmitted
    // verbatim on resume, and a secret put literally into a command is the command's own.
    const scrubbed = scrubDeep(entry, this.#secrets);
    if (entry.type === "attempt-planned" && scrubbed.type === "attempt-planned") scrubbed.argv = entry.argv;
    return this.#store.appendJournal(this.#runId, scrubbed);
  }

  /** Appends `entry` without the caller awaiting it: the run waits for it before finishing. */
  appendTracked(entry: JournalEntry): Promise<void> {
    return this.track(this.append(entry));
  }

  /** Keeps `write` until it settles; a failure goes to `onWriteError`. */
  track(write: Promise<void>): Promise<void> {
    this.#pending.add(write);
    write.then(
      () => this.#pending.delete(write),
      (error: unknown) => {
        this.#pending.delete(write);
        this.#onWriteError(error);
      },
    );
    return write;
  }

  /** Tracked writes not settled yet. */
  pending(): Array<Promise<void>> {
    return [...this.#pending];
  }
}

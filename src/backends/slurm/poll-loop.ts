/**
 * The Slurm backend's background poll loop. The interval is adaptive: {@link PollIntervals.min}
 * right after a submit or a state change, then ×{@link PollIntervals.factor} per quiet cycle up to
 * {@link PollIntervals.max}. Each cycle polls every active job in one call, tells the listeners of
 * changed states, and reports a job `lost` only after 3 cycles in a row (it may be transient).
 *
 * @module
 */
import { isTerminal, type JobSpec, type JobState, type JobUpdateListener } from "../queue-backend.js";

/** Poll interval tuning, in ms. */
export interface PollIntervals {
  /** Right after a submit or a state change (default 250). */
  min: number;
  /** Ceiling while jobs run quietly (default 5000). */
  max: number;
  /** Growth per quiet cycle (default 1.5). */
  factor: number;
}

/** A job the backend submitted or adopted. */
export interface TrackedJob {
  spec: JobSpec;
  /** Its attempt directory on the cluster. */
  dir: string;
  /** Last state reported to the listeners. */
  state?: JobState;
  /** Consecutive cycles Slurm did not know the job (reported as lost after 3). */
  lostCycles?: number;
}

/** What a {@link PollLoop} reads and reports to. */
export interface PollLoopOptions {
  intervals?: Partial<PollIntervals> | undefined;
  /** Every job known, by backend job id. */
  jobs: ReadonlyMap<string, TrackedJob>;
  /** Ids still queued or running: polled each cycle; a job leaves once terminal. */
  active: Set<string>;
  listeners: ReadonlySet<JobUpdateListener>;
  /** States of many jobs in one round trip. */
  poll: (ids: readonly string[]) => Promise<Map<string, JobState>>;
  /** Errors of a cycle (the next cycle retries). */
  onPollError: (error: unknown) => void;
}

/** See the module comment. */
export class PollLoop {
  readonly #options: PollLoopOptions;
  readonly #intervals: PollIntervals;
  #interval: number;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #stopped = false;

  constructor(options: PollLoopOptions) {
    this.#options = options;
    this.#intervals = { min: 250, max: 5000, factor: 1.5, ...options.intervals };
    this.#interval = this.#intervals.min;
  }

  /** (Re)arms the poll timer; `reset` goes back to the fastest interval. */
  schedule(reset: boolean): void {
    if (this.#stopped) return;
    if (reset) this.#interval = this.#intervals.min;
    if (this.#options.active.size === 0) return;
    if (this.#timer) {
      if (!reset) return;
      clearTimeout(this.#timer);
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#ticking) return void this.#ticking.then(() => this.schedule(false));
      this.#ticking = this.#tick().finally(() => {
        this.#ticking = undefined;
      });
    }, this.#interval);
  }

  /** Stops polling; resolves once a cycle under way has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#ticking?.catch(() => {});
  }

  async #tick(): Promise<void> {
    const { jobs, active, listeners } = this.#options;
    let changed = false;
    try {
      const ids = [...active];
      const states = ids.length > 0 ? await this.#options.poll(ids) : new Map<string, JobState>();
      for (const [id, state] of states) {
        const job = jobs.get(id);
        if (!job || !active.has(id)) continue;
        const previous = job.state;
        job.lostCycles = state.status === "lost" ? (job.lostCycles ?? 0) + 1 : 0;
        if (state.status === "lost" && job.lostCycles < 3) continue; // may be transient
        if (!previous || previous.status !== state.status) {
          changed = true;
          job.state = state;
          if (isTerminal(state)) active.delete(id);
          for (const listener of [...listeners]) {
            try {
              listener(id, state);
            } catch {
              // a listener's failure is its own
            }
          }
        }
      }
    } catch (error) {
      if (!this.#stopped) this.#options.onPollError(error);
    }
    if (this.#stopped) return;
    this.#interval = changed ? this.#intervals.min : Math.min(this.#intervals.max, this.#interval * this.#intervals.factor);
    this.schedule(false);
  }
}

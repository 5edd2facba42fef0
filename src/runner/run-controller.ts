/**
 * The controller of one run: starts each step as soon as all its parents have succeeded
 * (event-driven, no level-by-level waiting, no fixed polling), submits every step that became
 * ready in the same tick as one batch, journals each decision (fsynced) before acting on it,
 * retries with backoff, skips descendants of failures, reuses cached steps, resumes from its own
 * journal, and cancels everything on abort.
 *
 * A run that cannot go on — its store became unusable (a journal write failed), or `fail()` was
 * called (e.g. its lock's run directory vanished) — ends at once: its running jobs are cancelled
 * (nobody would watch or record them) and `done` rejects with the error.
 *
 * Resume rules: see restore-run.ts.
 *
 * Permanent backend errors (`isPermanentError`: a refused SSH host key or key) are not retried:
 * the run fails at once, its reason (journaled with `run-finished`) says why once, and steps say
 * only that they were not submitted. Jobs already submitted stay open in the journal (they may
 * still run), so a resume adopts them once the cause is fixed. Backend notices (connection lost /
 * restored) are journaled as `backend-notice` and emitted as `run:notice`.
 *
 * Every step moves through the state machine of `step-state.ts` (one guarded transition); the
 * run is done when every step is final. The parts, one concern each: `scheduling` (readiness,
 * skips), `prepare-attempt` (render, cache, hooks, `attempt-planned`), `attempt-spec` (the job),
 * `submit-batch`, `job-updates` (waiting, start, end, outputs), `attempt-failures` and
 * `retry-policy`, `restore-run` (resume, adoption), `run-journal`, `run-result`.
 *
 * @module
 */
import type { BackendNotice } from "../backends/queue-backend.js";
import { GpuDagError, permanentErrorOf } from "../errors.js";
import { recordNotice, refusal } from "./backend-failures.js";
import { awaitsExpansion, expandDynamicMap, freshState } from "./dynamic-map.js";
import { emitSafely, notifyStatusChange } from "./hook-runner.js";
import { onJobUpdate } from "./job-updates.js";
import { settleMap } from "./map-settle.js";
import { MapThrottle } from "./map-throttle.js";
import { prepareAttempt } from "./prepare-attempt.js";
import type { ResolutionScope } from "./resolve-step.js";
import { restoreRun } from "./restore-run.js";
import type { RunContext, RunControllerOptions, StepState } from "./run-context.js";
import { RunJournal } from "./run-journal.js";
import { runResultOf, runStatusOf } from "./run-result.js";
import { scopeOf } from "./run-scope.js";
import type { RunEvent, RunResult } from "./run-types.js";
import { finishStep, releaseChildrenOf, skipStep } from "./scheduling.js";
import { isTerminalPhase, STATUS_OF_PHASE, type StepPhase, transition } from "./step-state.js";
import { type PreparedStep, submitBatch } from "./submit-batch.js";

export type { RunControllerOptions } from "./run-context.js";

/** Drives one run; see the module comment. `start()` once, then await `done`. */
export class RunController {
  readonly #o: RunControllerOptions;
  readonly #steps = new Map<string, StepState>();
  readonly #byJob = new Map<string, StepState>();
  readonly #forced: ReadonlySet<string>;
  readonly #journal: RunJournal;
  readonly #ctx: RunContext;
  #ready: StepState[] = [];
  /** Steps held back by a map's or a queue's `maxParallel` (see map-throttle.ts). */
  readonly #throttle: MapThrottle;
  #flushScheduled = false;
  #aborted = false;
  #cancelReason = "run was cancelled";
  #startedAt = Date.now();
  #resolve!: (result: RunResult) => void;
  #reject!: (error: unknown) => void;
  #unsubscribe: (() => void) | undefined;
  #unsubscribeNotices: (() => void) | undefined;
  /** Set when a permanent backend error failed the run as a whole: the run's reason. */
  #fatalReason: string | undefined;
  #runTimer: NodeJS.Timeout | undefined;
  /** Backoff timers of steps waiting to retry (cleared when the run fails). */
  readonly #retryTimers = new Set<NodeJS.Timeout>();
  #finished = false;
  /** Resolves with the run's result. */
  readonly done: Promise<RunResult>;

  constructor(options: RunControllerOptions) {
    this.#o = options;
    this.#forced = new Set([...(options.force ?? []), ...(options.resume?.force ?? [])]);
    this.#journal = new RunJournal(options.store, options.runId, (error) => this.#fail(error));
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    for (const name of options.plan.order) {
      const planned = options.plan.steps.get(name)!;
      const queue = options.environment.resolveQueue(planned.spec.executionQueue);
      if ("error" in queue) throw new GpuDagError("E_CONFIG", `step "${name}": ${queue.error}`);
      this.#steps.set(name, freshState(planned, queue));
    }
    for (const name of this.#forced) {
      if (!this.#steps.has(name)) throw new GpuDagError("E_PIPELINE_INVALID", `--force names unknown step "${name}" (steps: ${[...this.#steps.keys()].join(", ")})`);
    }
    this.#throttle = new MapThrottle(this.#steps, options.environment.backend.throttlesGroups === true);
    this.#ctx = {
      options,
      steps: this.#steps,
      byJob: this.#byJob,
      forced: this.#forced,
      journal: this.#journal,
      retryTimers: this.#retryTimers,
      aborted: () => this.#aborted,
      cancelReason: () => this.#cancelReason,
      scope: () => this.#scope(),
      emit: (event) => this.#emit(event),
      setPhase: (state, phase, quiet) => this.#setPhase(state, phase, quiet),
      finishStep: (state, status, reason, release) => finishStep(this.#ctx, state, status, reason, release),
      markReady: (state) => this.#markReady(state),
      addSteps: (states) => {
        for (const state of states) this.#steps.set(state.name, state);
      },
      releaseHeld: () => {
        for (const state of this.#throttle.release()) this.#enqueue(state);
      },
      skip: (state, reason, fromPreparing) => skipStep(this.#ctx, state, reason, fromPreparing),
      abort: (reason) => this.#abort(reason),
      checkDone: () => this.#checkDone(),
      onJobUpdate: (id, job) => onJobUpdate(this.#ctx, id, job),
      fatal: (error) => this.#fatal(error),
      fail: (error) => this.#fail(error),
    };
  }

  /** Starts (or resumes) the run. */
  async start(): Promise<void> {
    const { signal } = this.#o;
    this.#unsubscribe = this.#o.environment.backend.onUpdate((id, state) => onJobUpdate(this.#ctx, id, state));
    await this.#journal.append({ type: "run-started", at: Date.now(), controller: `pid ${process.pid}` });
    this.#unsubscribeNotices = this.#o.environment.backend.onNotice?.((notice) => this.#onNotice(notice));
    if (signal?.aborted) {
      this.#abort("run was cancelled");
      return;
    }
    signal?.addEventListener("abort", () => this.#abort("run was cancelled"), { once: true });
    if (this.#o.runTimeLimitSeconds !== undefined) {
      this.#runTimer = setTimeout(() => this.#abort(`run time limit of ${this.#o.runTimeLimitSeconds}s exceeded`), this.#o.runTimeLimitSeconds * 1000);
      this.#runTimer.unref();
    }
    const adopted = this.#o.resume ? restoreRun(this.#ctx, this.#o.resume.entries, (state) => releaseChildrenOf(this.#ctx, state, false)) : [];
    for (const state of this.#steps.values()) {
      if (state.phase === "pending" && state.waitingParents === 0) this.#markReady(state);
    }
    await Promise.all(adopted.map((fn) => fn()));
    this.#checkDone();
  }

  #markReady(state: StepState): void {
    if (state.planned.map) {
      // A map step runs no job: its items are made now (itemsFrom), or every element is final.
      if (awaitsExpansion(state)) void expandDynamicMap(this.#ctx, state).catch((e: unknown) => this.#fail(e));
      else settleMap(this.#ctx, state);
      return;
    }
    this.#setPhase(state, "ready");
    this.#enqueue(state);
  }

  #enqueue(state: StepState): void {
    this.#ready.push(state);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // Steps made ready by the same event (e.g. one parent's many children) go in one batch.
      queueMicrotask(() => void this.#flush().catch((e: unknown) => this.#failOrFatal(e)));
    }
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    const batch = this.#aborted ? this.#ready : this.#throttle.admit(this.#ready);
    this.#ready = [];
    if (this.#aborted) {
      for (const state of [...batch, ...this.#throttle.release()]) this.#ctx.finishStep(state, "cancelled", this.#cancelReason);
      return;
    }
    for (const state of batch) this.#setPhase(state, "preparing");
    const prepared = await Promise.all(batch.map((state) => prepareAttempt(this.#ctx, state)));
    const specs = prepared.filter((s): s is PreparedStep => s !== undefined);
    if (specs.length === 0) return;
    if (this.#aborted) {
      for (const state of specs) this.#ctx.finishStep(state, "cancelled", this.#cancelReason);
      return;
    }
    await submitBatch(this.#ctx, specs);
  }

  #abort(reason: string): void {
    if (this.#aborted || this.#finished) return;
    this.#aborted = true;
    this.#cancelReason = reason;
    for (const state of this.#steps.values()) {
      if (state.phase === "pending") {
        this.#setPhase(state, "cancelled");
        state.result.reason = reason;
      }
    }
    for (const state of this.#throttle.release()) this.#ctx.finishStep(state, "cancelled", reason);
    const ids = [...this.#byJob.keys()];
    if (ids.length > 0) void this.#o.environment.backend.cancel(ids).catch((e: unknown) => this.#failOrFatal(e));
    this.#checkDone();
  }

  /** Finishes the run once every step is final (the run's status is derived from theirs). */
  #checkDone(): void {
    if (this.#finished) return;
    for (const state of this.#steps.values()) if (!isTerminalPhase(state.phase)) return;
    this.#finished = true;
    if (this.#runTimer) clearTimeout(this.#runTimer);
    const pending = this.#journal.pending();
    const status = runStatusOf(this.#steps, { fatal: this.#fatalReason !== undefined, aborted: this.#aborted });
    const reason = this.#fatalReason;
    void Promise.all(pending)
      .then(() => this.#journal.append({ type: "run-finished", at: Date.now(), status, ...(reason !== undefined ? { reason } : {}) }))
      .then(() => {
        this.#unsubscribe?.();
        this.#unsubscribeNotices?.();
        const result = runResultOf(this.#steps, { runId: this.#o.runId, plan: this.#o.plan, store: this.#o.store, status, startedAt: this.#startedAt, reason });
        this.#emit({ type: "run:complete", runId: this.#o.runId, result, at: Date.now() });
        this.#resolve(result);
      })
      .catch((e: unknown) => this.#reject(e));
  }

  /** What placeholders see: the run's parameters and its finished steps' outputs. */
  #scope(): ResolutionScope {
    return scopeOf(this.#steps, this.#o);
  }

  /**
   * The one place a step changes state: guarded by the table of step-state.ts. An illegal
   * transition is a controller bug: the run fails with it (so `done` rejects instead of hanging
   * wherever the throw lands, e.g. in a backend's listener), and it is thrown to stop the caller.
   */
  #setPhase(state: StepState, phase: StepPhase, quiet = false): void {
    let change: ReturnType<typeof transition>;
    try {
      change = transition(state, phase);
    } catch (error) {
      this.#fail(error);
      throw error;
    }
    const { previous, status } = change;
    state.result.status = STATUS_OF_PHASE[state.phase];
    if (!quiet && previous !== status) notifyStatusChange(this.#o.hooks, state.name, status, previous);
  }

  #emit(event: RunEvent): void {
    emitSafely(this.#o.onEvent, event);
  }

  /**
   * Ends the run at once with `error`: nothing more is submitted, running jobs are cancelled,
   * and `done` rejects with `error` once the cancellation has been sent.
   */
  fail(error: unknown): void {
    this.#fail(error);
  }

  /** Backend ids of this run's jobs that are submitted and not yet ended. */
  activeJobIds(): string[] {
    return [...this.#byJob.keys()];
  }

  #fail(error: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#aborted = true; // a submission in flight cancels what it submitted (#flush); retries end
    if (this.#runTimer) clearTimeout(this.#runTimer);
    for (const timer of this.#retryTimers) clearTimeout(timer);
    this.#retryTimers.clear();
    const ids = [...this.#byJob.keys()];
    const cancelled = ids.length > 0 ? this.#o.environment.backend.cancel(ids).catch(() => undefined) : Promise.resolve();
    void cancelled.then(() => {
      this.#unsubscribe?.();
      this.#unsubscribeNotices?.();
      this.#reject(error);
    });
  }

  #failOrFatal(error: unknown): void {
    const permanent = permanentErrorOf(error);
    if (permanent) this.#fatal(permanent);
    else this.#fail(error);
  }

  /** A backend notice: a refusal fails the run; an outage or its end is journaled and emitted. */
  #onNotice(notice: BackendNotice): void {
    if (notice.kind === "connection-refused") {
      this.#fatal(notice.error);
      return;
    }
    if (!this.#finished) recordNotice(this.#ctx, notice);
  }

  /**
   * A permanent backend error (see the module comment): the run fails once, with the error's
   * message as its reason. Steps whose jobs were submitted can no longer be watched: they end here
   * without an end in the journal (the job may still run; a resume adopts it).
   */
  #fatal(error: GpuDagError): void {
    if (this.#fatalReason !== undefined || this.#finished) return;
    this.#fatalReason = this.#journal.scrub(error.message);
    for (const [id, state] of [...this.#byJob]) {
      this.#byJob.delete(id);
      if (!isTerminalPhase(state.phase)) {
        this.#ctx.finishStep(state, "failed", `no longer watched: ${refusal(error)}; job ${id} may still run (\`gpu-dag resume\` adopts it once this is fixed)`);
      }
    }
    this.#abort(`the run failed: ${refusal(error)}`);
  }
}

/**
 * What the controller's parts share: each step's state, and the run's context — options, journal,
 * the step table, and the few controller actions the parts call back (finish a step, fail an
 * attempt, fail the run). The controller (`run-controller.ts`) is the one implementation.
 *
 * @module
 */
import type { JobSpec, JobState } from "../backends/queue-backend.js";
import type { ResolvedQueue } from "../config/resolve-queue.js";
import type { GpuDagError } from "../errors.js";
import type { PipelinePlan, PlannedStep } from "../pipeline/validate.js";
import type { JournalEntry } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { ExecutionEnvironment } from "./environment.js";
import type { ResolutionScope } from "./resolve-step.js";
import type { RunJournal } from "./run-journal.js";
import type { RunEvent, RunEventListener, StepResult, StepStatus } from "./run-types.js";
import type { StepHooks } from "./step-hooks.js";
import type { StepPhase } from "./step-state.js";

/** Options of a run. */
export interface RunControllerOptions {
  runId: string;
  plan: PipelinePlan;
  store: Store;
  environment: ExecutionEnvironment;
  /** `simulate` runs stand-ins for the ML tools (drafts may still say otherwise). */
  runtime?: "real" | "simulate" | undefined;
  parameters?: Readonly<Record<string, string | number | boolean>>;
  onEvent?: RunEventListener;
  signal?: AbortSignal;
  /** Retries of infrastructure failures (node failure, preemption, lost job) per step. Default 2. */
  infrastructureRetries?: number;
  /** Base delay of retry backoff in ms (doubles each attempt, with jitter). Default 1000. */
  retryBackoffMs?: number;
  /** A failure of any step cancels the whole run (running jobs included). */
  abortOnFailure?: boolean;
  /** Wall-clock limit of the whole run, seconds: when reached, the run is cancelled. */
  runTimeLimitSeconds?: number;
  /** Callbacks per step name, and `"*"` for every step. */
  hooks?: Readonly<Record<string, StepHooks>>;
  /** Resume from the journal instead of starting fresh. */
  resume?: { entries: readonly JournalEntry[]; force?: readonly string[] };
  /** Steps that ignore the cache this time. */
  force?: readonly string[];
}

/** One step as the controller holds it. `result.status` always mirrors `phase` (see step-state.ts). */
export interface StepState {
  readonly name: string;
  phase: StepPhase;
  planned: PlannedStep;
  queue: ResolvedQueue;
  result: StepResult;
  /** The last attempt number spent (0: none). */
  attempt: number;
  jobFailures: number;
  infraFailures: number;
  jobId?: string;
  /** The attempt directory as the job sees it, when the backend says it differs. */
  jobDir?: string;
  spec?: JobSpec;
  cacheKey?: string;
  resolvedOptions?: Record<string, unknown>;
  waitingParents: number;
  /** Why its queued job waits, as the backend last said ("" for no reason given). */
  waitReason?: string;
  /** A map with `itemsFrom`: its elements have been made (dynamic-map.ts). */
  expanded?: boolean;
}

/** The run as its parts see it; see the module comment. */
export interface RunContext {
  readonly options: RunControllerOptions;
  readonly steps: ReadonlyMap<string, StepState>;
  /** Steps by the backend id of their submitted, not yet ended, job. */
  readonly byJob: Map<string, StepState>;
  /** Steps that ignore the cache (and, resuming, run again). */
  readonly forced: ReadonlySet<string>;
  readonly journal: RunJournal;
  /** Backoff timers of steps waiting to retry (cleared when the run fails). */
  readonly retryTimers: Set<NodeJS.Timeout>;
  /** True once the run is cancelled or failed: nothing more is submitted. */
  aborted(): boolean;
  /** Why the run was cancelled (the reason of steps it cancels). */
  cancelReason(): string;
  scope(): ResolutionScope;
  emit(event: RunEvent): void;
  /** Moves a step through the state machine (throws on an illegal transition); `quiet` tells no hook. */
  setPhase(state: StepState, phase: StepPhase, quiet?: boolean): void;
  /** Ends a step; `releaseChildren` lets its children run (success, or continueOnFail). */
  finishStep(state: StepState, status: StepStatus & StepPhase, reason?: string, releaseChildren?: boolean): void;
  /** Queues a step for the next batch (from pending, or when its retry delay passed). */
  markReady(state: StepState): void;
  /** Adds steps made at run time (the elements of an `itemsFrom` map). */
  addSteps(states: readonly StepState[]): void;
  /** A step ended: steps a `maxParallel` held back may go now. */
  releaseHeld(): void;
  /** Skips a pending step (or, `fromPreparing`, one its preExecute hook declined) and its descendants. */
  skip(state: StepState, reason: string, fromPreparing?: boolean): void;
  /** Cancels the run (steps not started, running jobs) with `reason`. */
  abort(reason: string): void;
  /** Finishes the run when every step is final. */
  checkDone(): void;
  onJobUpdate(id: string, job: JobState): void;
  /** A permanent backend error: fails the run once (see the controller's module comment). */
  fatal(error: GpuDagError): void;
  /** Ends the run at once with `error` (`done` rejects). */
  fail(error: unknown): void;
}

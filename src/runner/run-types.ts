/**
 * What a run reports: per-step results, the run result, and the events emitted while it runs.
 *
 * @module
 */
import type { StepOutputs } from "../store/records.js";

/**
 * Where a step is, as results, events and hooks show it. The controller's phases behind these
 * and its full transition table are in `step-state.ts`; in short:
 *
 * ```
 * pending ─▶ queued ─▶ running ─▶ succeeded | failed | cancelled
 *    │         │  ▲       │
 *    │         │  └───────┘ (a failed attempt retried, after its backoff)
 *    │         ├─▶ cached    (identical earlier step reused)
 *    │         ├─▶ skipped   (preExecute returned false)
 *    │         └─▶ succeeded | failed | cancelled (a job that ended before it started; a launch error)
 *    ├─▶ skipped     (a parent did not succeed)
 *    └─▶ cancelled   (the run was cancelled first)
 * ```
 */
export type StepStatus = "pending" | "queued" | "running" | "succeeded" | "failed" | "skipped" | "cancelled" | "cached";

/** One step's result. */
export interface StepResult {
  name: string;
  status: StepStatus;
  queue: string;
  /** Attempts made (0 when never launched). */
  attempts: number;
  /** Backend job id of the last attempt. */
  jobId?: string;
  exitCode?: number | null;
  /** Why it failed or was skipped; while `queued`, why its job waits (e.g. `waiting for GPU: GPU 0 held by run X step Y (pid N)`). */
  reason?: string;
  /** True when the failure was the infrastructure's, not the job's. */
  infrastructure?: boolean;
  queuedAt?: number;
  startedAt?: number;
  endedAt?: number;
  /** Milliseconds from start to end of the last attempt. */
  durationMs?: number;
  /** Local directory of the last attempt (logs, outputs manifest). */
  attemptDir?: string;
  outputs?: StepOutputs;
  /** A map step's elements (`gen[0]` …, each a step result of its own), once it settled. */
  elements?: MapTally;
}

/** How a map step's elements ended. */
export interface MapTally {
  total: number;
  /** Successes the map needed (`minSuccess`). */
  required: number;
  succeeded: number;
  /** Elements that did not succeed (step names, `gen[3]`). */
  missing: string[];
}

/** Final state of a run. */
export type RunStatus = "succeeded" | "failed" | "cancelled";

/** What `executeLocally()` resolves with. */
export interface RunResult {
  runId: string;
  projectName: string;
  pipelineName: string;
  status: RunStatus;
  /** Steps in topological order. */
  steps: Record<string, StepResult>;
  /** Every model produced, with store ids. */
  models: Array<StepOutputs["models"][number] & { step: string }>;
  /** Metrics by step. */
  metrics: Record<string, Record<string, number>>;
  /** True when any step ran in simulate mode. */
  simulated: boolean;
  startedAt: number;
  endedAt: number;
  /** Where the run is recorded. */
  store: string;
  /**
   * Why the run failed as a whole, when it did not fail step by step: e.g. the cluster refused
   * the SSH connection (a permanent error: nothing was retried). Said once here, not per step.
   */
  reason?: string;
}

/** Events emitted while a run goes. */
export type RunEvent =
  | { type: "step:queued"; runId: string; step: string; attempt: number; jobId: string; queue: string; at: number }
  /**
   * A queued job's reason to wait changed, as its backend says (the local backend:
   * `waiting for GPU: GPU 0 held by run X step Y (pid N)` while another run, process or user holds
   * a GPU it could use). `reason` "" means it no longer waits on anything worth saying.
   */
  | { type: "step:waiting"; runId: string; step: string; attempt: number; reason: string; at: number }
  | { type: "step:start"; runId: string; step: string; attempt: number; jobId: string; at: number }
  | { type: "step:success"; runId: string; step: string; attempt: number; outputs: StepOutputs; cached: boolean; at: number }
  | { type: "step:failure"; runId: string; step: string; attempt: number; reason: string; exitCode: number | null; willRetry: boolean; at: number }
  | { type: "step:skipped"; runId: string; step: string; reason: string; at: number }
  /** A map step settled: every element is final (see runner/map-settle.ts). */
  | { type: "map:settled"; runId: string; step: string; status: StepStatus; total: number; succeeded: number; reason?: string; at: number }
  | { type: "run:complete"; runId: string; result: RunResult; at: number }
  /** The backend's connection was lost (retrying: attempt, next delay) or restored; see `BackendNotice`. */
  | { type: "run:notice"; runId: string; kind: string; message: string; at: number };

/** Listener for {@link RunEvent}s. */
export type RunEventListener = (event: RunEvent) => void;

/**
 * The step and attempt state machine of a run, as a transition table with one guarded
 * {@link transition}. A step's phase says where the controller has it; its public
 * {@link StepStatus} (what results, events and hooks show) is derived from the phase, and so is
 * whether it is active (the run is done when no step is pending or active).
 *
 * ```
 * phase        status     to (what makes it so)
 * ──────────── ────────── ─────────────────────────────────────────────────────────────────────
 * pending      pending    ready      (every parent succeeded, or continueOnFail failed)
 *                         succeeded  (a map step: every element final, minSuccess met — no job)
 *                         skipped    (a parent failed, was skipped or cancelled)
 *                         cancelled  (the run was cancelled first)
 *                         submitted, running        (resume: an open attempt is adopted)
 *                         failed     (a map step whose elements fell short of minSuccess)
 *                         succeeded, cached         (resume: done in an earlier controller)
 * ready        queued     preparing  (its batch is flushed)
 *                         cancelled  (the run was cancelled before the flush)
 * preparing    queued     submitted  (the backend took the job: the attempt number is spent)
 *                         cached     (an identical earlier step is reused: no attempt)
 *                         skipped    (preExecute returned false: no attempt)
 *                         failed     (launch-time error, or a submission refused for good)
 *                         backoff    (a submission failed, will be retried)
 *                         cancelled  (the run was cancelled while it was prepared)
 * submitted    queued     running    (the job started)
 *                         succeeded, failed, cancelled, backoff (the job ended while queued)
 * running      running    succeeded, failed, cancelled, backoff (the job ended)
 * backoff      queued     ready      (its retry delay passed)
 *                         cancelled  (the run was cancelled meanwhile)
 * succeeded, cached, failed, skipped, cancelled: terminal, no way out.
 * ```
 *
 * Attempt numbers are allocated only on the way to `submitted` (or for a launch-time failure,
 * which the journal records as that attempt's end); `cached` and `skipped` spend none.
 *
 * @module
 */
import { GpuDagError } from "../errors.js";
import type { StepStatus } from "./run-types.js";

/** Where the controller has a step; see the module comment. */
export type StepPhase = "pending" | "ready" | "preparing" | "submitted" | "running" | "backoff" | "succeeded" | "cached" | "failed" | "skipped" | "cancelled";

/** Every phase, in table order. */
export const STEP_PHASES = ["pending", "ready", "preparing", "submitted", "running", "backoff", "succeeded", "cached", "failed", "skipped", "cancelled"] as const satisfies readonly StepPhase[];

/** Legal transitions: phase → the phases it may go to. */
export const STEP_TRANSITIONS = {
  pending: ["ready", "skipped", "cancelled", "submitted", "running", "succeeded", "cached", "failed"],
  ready: ["preparing", "cancelled"],
  preparing: ["submitted", "cached", "skipped", "failed", "backoff", "cancelled"],
  submitted: ["running", "succeeded", "failed", "cancelled", "backoff"],
  running: ["succeeded", "failed", "cancelled", "backoff"],
  backoff: ["ready", "cancelled"],
  succeeded: [],
  cached: [],
  failed: [],
  skipped: [],
  cancelled: [],
} as const satisfies Record<StepPhase, readonly StepPhase[]>;

/** The public status of each phase. */
export const STATUS_OF_PHASE = {
  pending: "pending",
  ready: "queued",
  preparing: "queued",
  submitted: "queued",
  running: "running",
  backoff: "queued",
  succeeded: "succeeded",
  cached: "cached",
  failed: "failed",
  skipped: "skipped",
  cancelled: "cancelled",
} as const satisfies Record<StepPhase, StepStatus>;

/** True for a phase no transition leaves. */
export function isTerminalPhase(phase: StepPhase): boolean {
  return STEP_TRANSITIONS[phase].length === 0;
}

/** True while a step holds the run open: queued, being prepared, running, or waiting to retry. */
export function isActivePhase(phase: StepPhase): boolean {
  return phase !== "pending" && !isTerminalPhase(phase);
}

/** Whether `from → to` is in the table. */
export function canTransition(from: StepPhase, to: StepPhase): boolean {
  return (STEP_TRANSITIONS[from] as readonly StepPhase[]).includes(to);
}

/** What holds a phase: the step's name and its current phase. */
export interface PhaseHolder {
  readonly name: string;
  phase: StepPhase;
}

/** An illegal transition: names the step and both phases (a controller bug, never user input). */
export class StateTransitionError extends GpuDagError {
  constructor(
    readonly step: string,
    readonly from: StepPhase,
    readonly to: StepPhase,
  ) {
    super("E_STATE_TRANSITION", `step "${step}": illegal state transition ${from} → ${to} (allowed from ${from}: ${STEP_TRANSITIONS[from].join(", ") || "none, it is final"})`);
  }
}

/**
 * Moves `holder` to `to`. Throws `E_STATE_TRANSITION` naming the step, `from` and `to` when the
 * table has no such transition. Returns the public status before and after.
 */
export function transition(holder: PhaseHolder, to: StepPhase): { previous: StepStatus; status: StepStatus } {
  const from = holder.phase;
  if (!canTransition(from, to)) {
    throw new StateTransitionError(holder.name, from, to);
  }
  holder.phase = to;
  return { previous: STATUS_OF_PHASE[from], status: STATUS_OF_PHASE[to] };
}

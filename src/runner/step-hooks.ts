/**
 * Callbacks a step (or the whole pipeline) may set. In-process only: functions are not data, so
 * they are not stored with the pipeline and a detached controller does not run them.
 *
 * @module
 */
import type { StepOutputs } from "../store/records.js";
import type { StepStatus } from "./run-types.js";

/** What a hook learns about the step. */
export interface StepHookContext {
  runId: string;
  step: string;
  attempt: number;
  /** The resolved options the attempt will run (preExecute) or ran with. */
  parameters: Readonly<Record<string, unknown>>;
}

/** Per-step callbacks. */
export interface StepHooks {
  /** Before an attempt is submitted. Return `false` to skip the step and its descendants. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing must type-check; void is the honest type
  preExecute?: (context: StepHookContext) => boolean | void | Promise<boolean | void>;
  /** After the step succeeded, with its outputs. */
  postExecute?: (context: StepHookContext & { outputs: StepOutputs }) => void | Promise<void>;
  /** On every status change of the step. */
  onStatusChange?: (step: string, status: StepStatus, previous: StepStatus) => void;
}

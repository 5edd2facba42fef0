/**
 * Calling a run's step hooks (`"*"` first, then the step's own). `onStatusChange` is told of
 * every change of a step's public status; its errors are swallowed (a callback's bug must not
 * break the run), as are those of the run's event listener. `preExecute` and `postExecute` are
 * awaited, and their errors are the step's.
 *
 * @module
 */
import type { StepOutputs } from "../store/records.js";
import type { RunEvent, RunEventListener, StepStatus } from "./run-types.js";
import type { StepHookContext, StepHooks } from "./step-hooks.js";

type HookTable = Readonly<Record<string, StepHooks>> | undefined;

/** The hooks that apply to `step`. */
export function hooksFor(hooks: HookTable, step: string): StepHooks[] {
  return [hooks?.["*"], hooks?.[step]].filter((h): h is StepHooks => h !== undefined);
}

/** Tells `onStatusChange` hooks; never throws. */
export function notifyStatusChange(hooks: HookTable, step: string, status: StepStatus, previous: StepStatus): void {
  for (const hook of hooksFor(hooks, step)) {
    try {
      hook.onStatusChange?.(step, status, previous);
    } catch {
      // A callback's bug must not break the run.
    }
  }
}

/** False when a `preExecute` hook declines the attempt (the step is then skipped). */
export async function preExecuteAllows(hooks: HookTable, context: StepHookContext): Promise<boolean> {
  for (const hook of hooksFor(hooks, context.step)) {
    if (hook.preExecute && (await hook.preExecute(context)) === false) return false;
  }
  return true;
}

/** Runs the `postExecute` hooks of a step that succeeded. */
export async function runPostExecute(hooks: HookTable, context: StepHookContext & { outputs: StepOutputs }): Promise<void> {
  for (const hook of hooksFor(hooks, context.step)) await hook.postExecute?.(context);
}

/** Hands `event` to the run's listener; never throws. */
export function emitSafely(listener: RunEventListener | undefined, event: RunEvent): void {
  try {
    listener?.(event);
  } catch {
    // A listener's bug must not break the run.
  }
}

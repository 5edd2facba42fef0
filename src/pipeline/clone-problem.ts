/**
 * Whether a draft clones with given overrides: validation checks literal overrides (and map
 * elements' item values) with it, so a type error never waits for launch time.
 *
 * @module
 */
import { GpuDagError } from "../errors.js";
import type { TaskDraft } from "../tasks/task-draft.js";

/** The error message of cloning `task` with `overrides`, or `undefined` when the clone is valid. */
export function cloneProblem(task: TaskDraft, overrides: Record<string, unknown>): string | undefined {
  try {
    task.clone(overrides);
    return undefined;
  } catch (error) {
    if (!(error instanceof GpuDagError)) throw error;
    return error.message;
  }
}

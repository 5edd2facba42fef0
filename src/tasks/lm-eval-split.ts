/**
 * An `LMEvalTask` with `splitSubtasks: true` as three steps: one job lists the leaf subtasks of its
 * groups (lm-eval's TaskManager; the list is known only once it ran), a map runs one job per
 * subtask, and one job recombines the group scores with lm-eval's own aggregation. Pure functions
 * of the task's options: what the pipeline needs to expand the task into those steps.
 *
 * @module
 */
import type { LMEvalTask } from "./lm-eval-task.js";
import type { RenderContext, RenderedCommand } from "./task-draft.js";

/** Artifact names the split's jobs report in `outputs.json`. */
export const EvalSplitArtifacts = {
  /** The list job's JSON array of leaf subtask names (one map item each). */
  subtasks: "subtasks",
  /** The list job's tree: each group's children, leaves and `aggregate_metric_list`. */
  taskTree: "task_tree",
  /** A subtask run's (or the recombination's) lm-eval results JSON. */
  results: "results",
} as const;

/** The split plan of a task; `undefined` unless its `splitSubtasks` is true. */
export interface EvalSplit {
  /** The task and group names split (and recombined). */
  tasks: string[];
  /** `parameterOverride` of the list step: `{ splitSubtasks: "false", listSubtasks: "true" }`. */
  listOverrides: Readonly<Record<string, string>>;
  /** The list step's artifact whose file is the JSON array the subtask map runs over: `subtasks`. */
  listArtifact: string;
  /** `parameterOverride` of each subtask element (map items = the subtask names): `{ splitSubtasks: "false", subtask: "${item}" }`. */
  elementOverrides: Readonly<Record<string, string>>;
  /** `parameterOverride` of the recombine step, reading map step `elementStep`'s elements file. */
  recombineOverrides(elementStep: string): Readonly<Record<string, string>>;
}

/** The split plan of `task`, or `undefined` when it runs as one job (`splitSubtasks` unset or false). */
export function evalSplit(task: LMEvalTask): EvalSplit | undefined {
  if (task.options.splitSubtasks !== true) return undefined;
  return {
    tasks: task.tasks(),
    listOverrides: { splitSubtasks: "false", listSubtasks: "true" },
    listArtifact: "subtasks",
    elementOverrides: { splitSubtasks: "false", subtask: "${item}" },
    recombineOverrides: (elementStep) => ({ splitSubtasks: "false", "recombine.elements": `\${${elementStep}[*].elements}` }),
  };
}

/** The list job: `python -m gpu_dag_runtime.evaluate list --tasks … [--include-path …]`. */
export function evalListCommand(task: LMEvalTask, context: RenderContext): RenderedCommand {
  return task.clone({ splitSubtasks: false, listSubtasks: true }).render(context);
}

/** The job of one subtask: the task's evaluation with `--subtask <subtask>`. */
export function evalSubtaskCommand(task: LMEvalTask, subtask: string, context: RenderContext): RenderedCommand {
  return task.clone({ splitSubtasks: false, subtask }).render(context);
}

/** Where a recombination finds the subtask results: a map's elements file, or results JSON paths. */
export type EvalRecombineSource = { elements: string } | { results: string | string[] };

/** The recombine job: `python -m gpu_dag_runtime.evaluate recombine --tasks … (--elements … | --results …)`. */
export function evalRecombineCommand(task: LMEvalTask, source: EvalRecombineSource, context: RenderContext): RenderedCommand {
  return task.clone({ splitSubtasks: false, recombine: source }).render(context);
}

/**
 * From an evaluation step's metrics to benchmark scores, as model cards show them: a **category**
 * (the lm-eval config it ran, e.g. `openllm`; else the step's name), its **benchmarks** (tasks)
 * and one score per benchmark.
 *
 * Metric names are `<task>/<metric>[/<filter>]` (the lm-eval runner's names). Which tasks are
 * benchmarks follows lm-eval's groups: a requested group shows its direct members, each member
 * group with the score lm-eval gives that group (its subtasks are not rows). The groups come from
 * the manifest (`groups`, lm-eval's `group_subtasks`); without them, a task `P_x` is taken as a
 * subtask of a task `P` that is present and was not requested (`mmlu_anatomy` under `mmlu`), and a
 * requested task is hidden when other tasks are present (it was a group). `average/*` and
 * `eval/*` (the runner's own), `*_stderr` and `n_samples` metrics are never scores.
 *
 * @module
 */
import { baseStep } from "./refs.js";
import type { StepResult } from "./step-results.js";

/** lm-eval metrics in the order one is picked as a benchmark's score. */
export const PREFERRED_METRICS = ["acc_norm", "acc", "exact_match/strict-match", "exact_match", "f1", "em", "score"] as const;

const NOT_BENCHMARKS = new Set(["average", "eval"]);
/** Metrics that are never a score: standard errors (`acc_stderr`, `exact_match_stderr/strict-match`) and sample counts. */
const NOT_SCORES = /(^|\/)[^/]*_stderr(\/|$)|^n_samples(_original)?$/;

/** One evaluation's metrics by benchmark: task → metric name → value. */
export interface BenchmarkScores {
  category: string;
  /** Benchmarks in the order they were reported. */
  benchmarks: Map<string, Map<string, number>>;
}

/**
 * The category of an evaluation: its lm-eval config's name (a bundled config, or a config file's
 * name without `.yaml`); for a config written inline, the tasks it asked for; else its step name
 * (without `[i]`).
 */
export function categoryOf(step: Pick<StepResult, "step" | "task" | "parameters" | "argv">): string {
  if (step.task?.type === "lm-eval") {
    const config = step.parameters?.["config"] ?? step.task.options["config"];
    if (typeof config === "string" && /^[\w./-]+$/.test(config)) return (config.split("/").pop() ?? config).replace(/\.ya?ml$/i, "");
    const tasks = requestedTasks(step);
    if (tasks) return tasks.join(",");
  }
  return baseStep(step.step);
}

/** The tasks the evaluation asked for (its `--tasks` argument), when known. */
export function requestedTasks(step: Pick<StepResult, "argv">): string[] | undefined {
  const at = step.argv?.indexOf("--tasks") ?? -1;
  const value = at >= 0 ? step.argv?.[at + 1] : undefined;
  return value ? value.split(",").filter(Boolean) : undefined;
}

/** See the module comment. `metrics` are the evaluation's values (series already reduced). */
export function benchmarkScores(
  step: Pick<StepResult, "step" | "task" | "parameters" | "argv"> & { outputs: { groups?: Record<string, string[]> | undefined } },
  metrics: Readonly<Record<string, number>>,
): BenchmarkScores {
  const byTask = new Map<string, Map<string, number>>();
  for (const [key, value] of Object.entries(metrics)) {
    const slash = key.indexOf("/");
    const task = slash > 0 ? key.slice(0, slash) : key;
    const metric = slash > 0 ? key.slice(slash + 1) : "";
    if (NOT_BENCHMARKS.has(task) || NOT_SCORES.test(metric)) continue;
    const scores = byTask.get(task) ?? new Map<string, number>();
    scores.set(metric, value);
    byTask.set(task, scores);
  }
  const visible = visibleTasks([...byTask.keys()], requestedTasks(step), step.outputs.groups);
  return { category: categoryOf(step), benchmarks: new Map(visible.map((t) => [t, byTask.get(t)!])) };
}

/** The tasks that are benchmark rows (see the module comment), in report order. */
export function visibleTasks(present: readonly string[], requested: readonly string[] | undefined, groups: Readonly<Record<string, readonly string[]>> | undefined): string[] {
  const has = new Set(present);
  if (groups && Object.keys(groups).length > 0) {
    const inGroup = new Set(Object.values(groups).flat());
    const roots = requested ?? present.filter((t) => !inGroup.has(t));
    const shown = roots.flatMap((r) => {
      const members = groups[r];
      return members?.some((m) => has.has(m)) ? members : [r];
    });
    return [...new Set(shown)].filter((t) => has.has(t));
  }
  const asked = new Set(requested ?? []);
  const subtask = (t: string) => present.some((p) => p !== t && !asked.has(p) && t.startsWith(`${p}_`));
  const kept = present.filter((t) => !subtask(t));
  const others = kept.filter((t) => !asked.has(t));
  return others.length > 0 ? others : kept;
}

/**
 * The metric that scores a benchmark: an override (`task=metric`, or a metric name for every
 * benchmark that has it), else the first of {@link PREFERRED_METRICS} present, else the first name
 * in alphabetical order. `available` lists what the evaluations report (both sides, shared first).
 */
export function pickMetric(task: string, available: readonly string[], overrides: readonly string[] = []): string | undefined {
  for (const override of overrides) {
    const eq = override.indexOf("=");
    if (eq > 0 && override.slice(0, eq) === task) return override.slice(eq + 1);
  }
  for (const override of overrides) if (!override.includes("=") && available.includes(override)) return override;
  for (const preferred of PREFERRED_METRICS) if (available.includes(preferred)) return preferred;
  return [...available].sort()[0];
}

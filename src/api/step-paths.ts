/**
 * The paths each step of a plan needs where its job runs, read from its task's options as the step
 * overrides them (`parameterOverride` values without placeholders; a field a placeholder fills is
 * only known at launch, and its parent produced it):
 *
 * | task | inputs (must exist) | outputs (directories it writes into) |
 * | --- | --- | --- |
 * | every task | `modelId` (a path, not `modelFromStore`), `python` | |
 * | llm-compressor | `dataset` | |
 * | lm-eval | `includePath` | |
 * | generate | `inputFile`, `promptConfig`, `script` | the directory of `outputFile`, `shardDir` |
 *
 * Only absolute paths and `~/…` are paths here (a relative `modelId` is a hub name). An input
 * need not exist before the run when an earlier step of the run may write it: it lies in an
 * ancestor's output directory, or an ancestor is a custom task (whose outputs gpu-dag cannot see).
 * Custom tasks' own paths are theirs to check.
 *
 * @module
 */
import { posix } from "node:path";
import type { PathNeed, StepPaths } from "../backends/queue-backend.js";
import { findPlaceholders } from "../pipeline/placeholders.js";
import type { PipelinePlan, PlannedStep } from "../pipeline/validate.js";
import { TaskType } from "../store/records.js";

const INPUTS: Readonly<Record<string, readonly string[]>> = {
  [TaskType.LLMCompressor]: ["dataset"],
  [TaskType.LMEval]: ["includePath"],
  [TaskType.Generate]: ["inputFile", "promptConfig", "script"],
};

/** True for a path the cluster can check: absolute or `~/…`, with no placeholder left in it. */
export function isClusterPath(value: unknown): value is string {
  return typeof value === "string" && (value.startsWith("/") || value.startsWith("~/")) && !value.includes("${") && !value.includes("$<");
}

/** Every job-running step of `plan` with the paths it needs (steps needing none are listed too: their queue's mounts count). */
export function stepPaths(plan: PipelinePlan): StepPaths[] {
  const own = new Map<string, PathNeed[]>();
  // What runs before each step may write: output directories, or anything (`opaque`: a custom
  // task, or more directories than are worth comparing). In topological order, parents first.
  const before = new Map<string, { opaque: boolean; dirs: Set<string> }>();
  const out: StepPaths[] = [];
  for (const name of plan.order) {
    const step = plan.steps.get(name)!;
    const paths = step.map ? [] : ownPaths(step);
    own.set(name, paths);
    const seen = { opaque: false, dirs: new Set<string>() };
    for (const parent of step.parents) {
      const above = before.get(parent);
      if (plan.steps.get(parent)?.task.type === TaskType.Custom || above?.opaque) seen.opaque = true;
      for (const dir of above?.dirs ?? []) seen.dirs.add(dir);
      for (const p of own.get(parent) ?? []) if (p.kind === "output") seen.dirs.add(p.path);
    }
    if (seen.dirs.size > MAX_WRITTEN_DIRS) seen.opaque = true;
    if (seen.opaque) seen.dirs.clear();
    before.set(name, seen);
    if (step.map) continue; // a map step runs no job: its elements do
    const kept = paths.filter((p) => p.kind === "output" || (!seen.opaque && ![...seen.dirs].some((dir) => p.path === dir || p.path.startsWith(`${dir}/`))));
    out.push({ step: name, queue: step.spec.executionQueue, paths: kept });
  }
  return out;
}

/** Beyond this many output directories upstream, a step's inputs are not required before the run. */
const MAX_WRITTEN_DIRS = 256;

/** The options the step's job will see, as far as they are known before the run. */
function knownOptions(step: PlannedStep): { options: Readonly<Record<string, unknown>>; unknown: Set<string> } {
  const literal: Record<string, unknown> = {};
  const unknown = new Set<string>();
  for (const [key, value] of Object.entries(step.spec.parameterOverride)) {
    if (findPlaceholders(value).length > 0) unknown.add(step.task.resolveParameterName(key)[0] ?? key);
    else literal[key] = value;
  }
  try {
    return { options: Object.keys(literal).length > 0 ? step.task.clone(literal).options : step.task.options, unknown };
  } catch {
    return { options: step.task.options, unknown: new Set([...unknown, ...Object.keys(step.task.options)]) };
  }
}

function ownPaths(step: PlannedStep): PathNeed[] {
  const { options, unknown } = knownOptions(step);
  const value = (field: string) => (unknown.has(field) ? undefined : options[field]);
  const paths: PathNeed[] = [];
  const input = (field: string) => {
    const v = value(field);
    if (isClusterPath(v)) paths.push({ path: v, kind: "input", field });
  };
  if (options["modelFromStore"] !== true) input("modelId");
  input("python");
  for (const field of INPUTS[step.task.type] ?? []) input(field);
  if (step.task.type === TaskType.Generate) {
    const outputFile = value("outputFile");
    if (isClusterPath(outputFile)) paths.push({ path: posix.dirname(outputFile), kind: "output", field: "outputFile" });
    const shardDir = value("shardDir");
    if (isClusterPath(shardDir)) paths.push({ path: shardDir, kind: "output", field: "shardDir" });
  }
  return paths;
}

/**
 * Tasks that fan out by themselves: a `GenerateTask` with `fanOut: true` and several seeds or
 * chunks (NeMo-Skills' `--num_random_seeds` × `--num_chunks`) becomes two map steps, as if the
 * user had written them:
 *
 * - `<step>-chunks`: a map over `{ seed, chunk }`, one job per element, each with its own
 *   co-scheduled server, writing its chunk's shard (keyed by row range, resumed row by row);
 * - `<step>`: the merges — a map over `{ seed }` whose element for seed S waits for seed S's
 *   chunks only and checks them (every shard present, rows adding up to the input's) before it
 *   writes `output-rs{S}.jsonl` atomically. With one seed it is a plain step.
 *
 * So `${<step>[seed=1].artifacts.output-rs1.url}` (or, with one seed,
 * `${<step>.artifacts.output.url}`) is the merged file, as before the fan-out.
 *
 * @module
 */
import { generationFanOut } from "../tasks/generate-fan-out.js";
import { GenerateTask } from "../tasks/generate-task.js";
import type { TaskDraft } from "../tasks/task-draft.js";
import type { PipelineSpec, StepSpec } from "./pipeline-spec.js";
import { findPlaceholders } from "./placeholders.js";

/** The spec with fanned-out tasks rewritten into their steps, or `undefined` when none fans out. */
export function expandTaskFanOut(spec: PipelineSpec, tasks: ReadonlyMap<string, TaskDraft>): PipelineSpec | undefined {
  let changed = false;
  const steps: StepSpec[] = [];
  for (const step of spec.steps) {
    const plan = step.map === undefined ? fanOutOf(step, tasks.get(step.name)) : undefined;
    if (!plan) {
      steps.push(step);
      continue;
    }
    changed = true;
    const elementStep = `${step.name}-chunks`;
    steps.push({ ...step, name: elementStep, map: { axes: plan.axes }, parameterOverride: { ...step.parameterOverride, ...plan.elementOverrides } });
    const merge = plan.mergeOverrides(elementStep);
    if (plan.mergeAxes.seed.length > 1) {
      steps.push({ ...step, parents: [...step.parents], map: { axes: plan.mergeAxes }, parameterOverride: { ...step.parameterOverride, ...merge } });
    } else {
      // One seed: a plain step reading every chunk (its seed's), known by its old name.
      const { seedIndex: _seed, ...rest } = merge;
      steps.push({ ...step, parameterOverride: { ...step.parameterOverride, ...rest, seedIndex: 0, "merge.elements": `\${${elementStep}[*].elements}` } });
    }
  }
  return changed ? { ...spec, steps } : undefined;
}

/** The fan-out plan of a step's draft with its literal overrides applied; `undefined` when it runs as one job. */
function fanOutOf(step: StepSpec, task: TaskDraft | undefined): ReturnType<typeof generationFanOut> {
  if (!(task instanceof GenerateTask)) return undefined;
  const literal = Object.fromEntries(Object.entries(step.parameterOverride).filter(([, v]) => findPlaceholders(v).length === 0));
  let draft: TaskDraft;
  try {
    draft = Object.keys(literal).length > 0 ? task.clone(literal) : task;
  } catch {
    return undefined; // validation reports the bad override
  }
  return draft instanceof GenerateTask ? generationFanOut(draft) : undefined;
}

/**
 * Turning a planned step into a concrete job at launch: placeholders resolved from the parents'
 * recorded outputs, the draft cloned with the overrides, a store model id resolved to its path,
 * the command rendered.
 *
 * @module
 */

import type { ResolvedQueue } from "../config/resolve-queue.js";
import { GpuDagError, PlaceholderError } from "../errors.js";
import type { PipelineSpec } from "../pipeline/pipeline-spec.js";
import { findPlaceholders, type Placeholder, type PlaceholderValue, substitute } from "../pipeline/placeholders.js";
import type { PlannedStep } from "../pipeline/validate.js";
import type { StepOutputs } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { RenderedCommand, TaskDraft } from "../tasks/task-draft.js";
import { type ElementView, type JobInputs, resolveSelected } from "./resolve-elements.js";

/** What placeholders can see: finished steps' outputs and resolved parameters. */
export interface ResolutionScope {
  runId: string;
  spec: PipelineSpec;
  /** Values for `${pipeline.x}` given at run time (over the declared defaults). */
  parameters: Readonly<Record<string, string | number | boolean>>;
  outputs(step: string): StepOutputs | undefined;
  /** The resolved options a step ran with. */
  resolvedOptions(step: string): Readonly<Record<string, unknown>> | undefined;
  /** The elements of map step `map` as they stand; `undefined` when it is not a map step. */
  elements?(map: string): readonly ElementView[] | undefined;
}

/** A step ready to submit. */
export interface ResolvedStep {
  task: TaskDraft;
  /** The overrides after placeholder resolution. */
  overrides: Record<string, unknown>;
  command: RenderedCommand;
  /** Path of the store model `modelId` named, when `modelFromStore`. */
  modelPath?: string;
  /** Files the job reads (a map's collection for `${gen[*].elements}`), relative to its attempt dir. */
  inputFiles: Record<string, string>;
}

/**
 * Ahead of a run (the dry run): what only the run can know stays as text. Placeholders other than
 * pipeline parameters (parents' outputs and parameters, the run id) are left as their `${…}` text
 * and listed in `unresolved`; what could not be rendered is said in `notes`.
 */
export interface AheadOfRun {
  unresolved: string[];
  notes: string[];
}

/**
 * Resolves `step`. Errors (a placeholder whose target has no such model, metric, artifact) name
 * the step, the parameter and the placeholder text. With `ahead` (the dry run), see {@link AheadOfRun}.
 */
export async function resolveStep(
  step: PlannedStep,
  scope: ResolutionScope,
  store: Store,
  queue: ResolvedQueue,
  render: { runtime: "real" | "simulate" | undefined; python: string; jobDir?: string },
  ahead?: AheadOfRun,
): Promise<ResolvedStep> {
  const inputs: JobInputs | undefined = render.jobDir === undefined ? undefined : { dir: render.jobDir, files: {} };
  const resolve = ahead ? (p: Placeholder) => resolveAhead(p, scope, ahead) : (p: Placeholder) => resolvePlaceholder(p, scope, inputs);
  const overrides: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(step.spec.parameterOverride)) {
    try {
      overrides[key] = substitute(value, resolve);
    } catch (error) {
      if (error instanceof PlaceholderError) {
        throw new PlaceholderError(error.text, `step "${step.spec.name}", parameterOverride.${key}: ${error.message}`);
      }
      throw error;
    }
  }
  const task = ahead ? cloneAhead(step, overrides, ahead) : step.task.clone(overrides);
  const options = task.options as Record<string, unknown>;
  let modelPath: string | undefined;
  if (options["modelFromStore"] === true) {
    const id = String(options["modelId"]);
    const model = ahead && (id.includes("${") || id.includes("$<")) ? undefined : await store.getModel(id).catch((e: unknown) => (ahead ? undefined : Promise.reject(e)));
    if (model) modelPath = model.path;
    else if (ahead) {
      modelPath = `<path of store model ${id}>`;
      ahead.notes.push(`modelId ${id} is resolved to the model's path when the step launches`);
    } else {
      throw new GpuDagError("E_PLACEHOLDER", `step "${step.spec.name}": modelId "${id}" is not a model in the store (modelFromStore is set)`);
    }
  }
  const runtime = (options["runtime"] as "real" | "simulate" | undefined) ?? render.runtime ?? "real";
  const python = (options["python"] as string | undefined) ?? render.python;
  const command = task.render({ runtime, python, gpus: queue.resources.gpus, ...(modelPath ? { modelPath } : {}) });
  return { task, overrides, command, inputFiles: inputs?.files ?? {}, ...(modelPath ? { modelPath } : {}) };
}

/** Ahead of a run: a pipeline parameter's value, anything else (or a parameter without one) as text. */
function resolveAhead(placeholder: Placeholder, scope: ResolutionScope, ahead: AheadOfRun): PlaceholderValue {
  if (placeholder.ref.kind === "pipeline") {
    try {
      return resolvePlaceholder(placeholder, scope);
    } catch (error) {
      if (!(error instanceof PlaceholderError)) throw error;
    }
  }
  if (!ahead.unresolved.includes(placeholder.raw)) ahead.unresolved.push(placeholder.raw);
  return placeholder.raw;
}

/**
 * Ahead of a run: an option that must be a number cannot hold placeholder text, so when the
 * overrides do not clone, the step is shown with only the overrides that hold no unresolved text.
 */
function cloneAhead(step: PlannedStep, overrides: Record<string, unknown>, ahead: AheadOfRun): TaskDraft {
  try {
    return step.task.clone(overrides);
  } catch (error) {
    ahead.notes.push(`overrides holding placeholders are shown unapplied (${(error as Error).message})`);
    const literal = Object.fromEntries(Object.entries(overrides).filter(([key]) => findPlaceholders(step.spec.parameterOverride[key]).every((p) => !ahead.unresolved.includes(p.raw))));
    return step.task.clone(literal);
  }
}

/**
 * The value of one placeholder in `scope`; `inputs` collects the files a job reads
 * (`${gen[*].elements}`).
 */
export function resolvePlaceholder(placeholder: Placeholder, scope: ResolutionScope, inputs?: JobInputs): PlaceholderValue {
  const { ref } = placeholder;
  if (ref.kind !== "pipeline" && ref.kind !== "item" && ref.select) {
    return resolveSelected({ ...placeholder, ref }, scope.elements?.(ref.step), (p) => resolveOne(p, scope), inputs);
  }
  return resolveOne(placeholder, scope);
}

/** The value of a placeholder on one step (or a pipeline parameter). */
function resolveOne(placeholder: Placeholder, scope: ResolutionScope): string | number | boolean {
  const { ref, raw } = placeholder;
  if (ref.kind === "item") throw new PlaceholderError(raw, `placeholder "${raw}": \${item…} outside a map element (a bug: plans expand maps)`);
  if (ref.kind === "elements") throw new PlaceholderError(raw, `placeholder "${raw}": .elements needs [*]`);
  if (ref.kind === "pipeline") {
    const value = scope.parameters[ref.param] ?? scope.spec.parameters[ref.param]?.default;
    if (value === undefined) throw new PlaceholderError(raw, `placeholder "${raw}": pipeline parameter "${ref.param}" has no value and no default`);
    return value;
  }
  if (ref.kind === "id") return `${scope.runId}.${ref.step}`;
  if (ref.kind === "parameter") {
    const options = scope.resolvedOptions(ref.step);
    const bare = ref.name.replace(/^Args\//, "").replace(/^parameters\./, "");
    const name = bare.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    // A custom Task keeps its named parameters (the seed's `Args/…`) under `parameters`; they take
    // precedence, as in `Task.resolveParameterName`.
    const named = options?.["parameters"];
    const own = named && typeof named === "object" && !Array.isArray(named) ? (named as Record<string, unknown>)[bare] : undefined;
    const value = own ?? options?.[name] ?? options?.[bare];
    if (value === undefined || typeof value === "object") {
      throw new PlaceholderError(raw, `placeholder "${raw}": step "${ref.step}" has no scalar parameter "${ref.name}"`);
    }
    return value as string | number | boolean;
  }
  const outputs = scope.outputs(ref.step);
  if (!outputs) throw new PlaceholderError(raw, `placeholder "${raw}": step "${ref.step}" has not produced outputs`);
  if (ref.kind === "model") {
    const models = outputs.models;
    const model = models[ref.index < 0 ? models.length + ref.index : ref.index];
    if (!model) {
      throw new PlaceholderError(raw, `placeholder "${raw}": step "${ref.step}" produced ${models.length} model(s), index ${ref.index} is out of range`);
    }
    return ref.field === "id" ? model.id : ref.field === "name" ? model.name : model.path;
  }
  if (ref.kind === "artifact") {
    const artifact = [...outputs.artifacts].reverse().find((a) => a.name === ref.name);
    if (!artifact) {
      throw new PlaceholderError(raw, `placeholder "${raw}": step "${ref.step}" produced no artifact "${ref.name}" (artifacts: ${outputs.artifacts.map((a) => a.name).join(", ") || "none"})`);
    }
    return ref.field === "id" ? artifact.id : artifact.path;
  }
  const metric = outputs.metrics[ref.name];
  if (metric === undefined) {
    throw new PlaceholderError(raw, `placeholder "${raw}": step "${ref.step}" recorded no metric "${ref.name}" (metrics: ${Object.keys(outputs.metrics).join(", ") || "none"})`);
  }
  return metric;
}

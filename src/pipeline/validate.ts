/**
 * Pipeline validation: every problem at once, before anything runs. Produces the plan the runner
 * executes (effective parents incl. those implied by placeholders, order, priorities).
 *
 * @module
 */
import { didYouMean } from "../args/did-you-mean.js";
import { GpuDagError, type PipelineProblem, PipelineValidationError, TaskNotFoundError } from "../errors.js";
import type { TaskDraft } from "../tasks/task-draft.js";
import { cloneProblem } from "./clone-problem.js";
import { expandMaps } from "./expand-maps.js";
import { buildGraph, findCyclePaths, longestRemainingPath, topologicalOrder } from "./graph.js";
import type { PipelineSpec, StepSpec } from "./pipeline-spec.js";
import { findPlaceholders, type Placeholder, referencedStep, substitute } from "./placeholders.js";
import type { PipelinePlan, PlannedStep } from "./plan-types.js";
import { expandTaskFanOut } from "./task-fan-out.js";
import { itemsSourceOf, type MapOfStep, mapPlaceholderProblem, mapProblems } from "./validate-maps.js";

export type { PipelinePlan, PlannedStep } from "./plan-types.js";

/** What validation needs from outside the pipeline (kept as functions so this module stays pure). */
export interface ValidationContext {
  /** Loads a base task by id (or inline key); throws when unknown. */
  loadTask(id: string): Promise<TaskDraft>;
  /** An error message when the queue is unknown, else `undefined`. */
  checkQueue(queue: string): string | undefined;
  /**
   * Values given for `${pipeline.x}` for this run: each must be a declared parameter (a typo
   * would otherwise run with the default and succeed).
   */
  parameters?: Readonly<Record<string, unknown>>;
  /**
   * Whether the store has a model with this id. Given, a step with `modelFromStore` whose
   * `modelId` is a literal (not a placeholder) must name a stored model: otherwise it would only
   * fail when it launches, after its parents ran for hours.
   */
  hasModel?(id: string): Promise<boolean>;
}

/** Validates `spec`; throws one {@link PipelineValidationError} listing every problem. */
export async function validatePipeline(spec: PipelineSpec, context: ValidationContext): Promise<PipelinePlan> {
  const problems: PipelineProblem[] = [];
  const names = spec.steps.map((s) => s.name);
  const nameSet = new Set(names);

  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) problems.push({ step: name, field: "name", message: `duplicate step name "${name}"` });
    seen.add(name);
  }

  const tasks = new Map<string, TaskDraft>();
  // Loaded concurrently, reported in step order (not in the order the loads happen to finish).
  const loaded = await Promise.allSettled(spec.steps.map((step) => context.loadTask(step.baseTaskId)));
  spec.steps.forEach((step, i) => {
    const outcome = loaded[i]!;
    if (outcome.status === "fulfilled") {
      if (!tasks.has(step.name)) tasks.set(step.name, outcome.value);
    } else {
      // A draft that exists but does not load (bad options, unknown config) is not "unknown".
      const what = outcome.reason instanceof TaskNotFoundError || !(outcome.reason instanceof GpuDagError) ? "unknown base task" : "invalid base task";
      problems.push({ step: step.name, field: "baseTaskId", message: `${what} "${step.baseTaskId}": ${(outcome.reason as Error).message}` });
    }
  });

  const maps = new Map<string, MapOfStep>();
  for (const step of spec.steps) {
    if (!step.map) continue;
    const { field, message, elements } = mapProblems(step.name, step.map);
    if (message) problems.push({ step: step.name, field, message });
    if (elements && !maps.has(step.name)) maps.set(step.name, { map: step.map, elements });
  }

  // A task that fans out by itself (GenerateTask fanOut) becomes its steps: validate those.
  const fannedOut = problems.length === 0 ? expandTaskFanOut(spec, tasks) : undefined;
  if (fannedOut) return validatePipeline(fannedOut, context);

  const planned = new Map<string, PlannedStep>();
  /** Literal store model ids of `modelFromStore` steps, checked together once the loop is done. */
  const storeModels: Array<{ step: string; field: string; id: string }> = [];
  const { executionQueue: _defaultQueue, ...policyDefaults } = spec.defaults;
  // Asked once per queue name, not once per step (the answer depends on the name alone).
  const queueErrors = new Map<string, string | undefined>();
  const checkQueue = (queue: string) => {
    if (!queueErrors.has(queue)) queueErrors.set(queue, context.checkQueue(queue));
    return queueErrors.get(queue);
  };
  for (const raw of spec.steps) {
    const step = { ...policyDefaults, ...stripUndefined(raw) } as StepSpec;
    const parents = new Set<string>();
    for (const parent of step.parents) {
      if (parent === step.name) {
        problems.push({ step: step.name, field: "parents", message: `step "${step.name}" lists itself as a parent` });
      } else if (!nameSet.has(parent)) {
        const hint = didYouMean(parent, names);
        problems.push({ step: step.name, field: "parents", message: `unknown parent "${parent}"${hint ? ` (did you mean "${hint}"?)` : ""}` });
      } else parents.add(parent);
    }

    if (step.map?.itemsFrom !== undefined) {
      const source = itemsSourceOf(step.name, step.map.itemsFrom, nameSet);
      if ("message" in source) problems.push({ step: step.name, field: "map.itemsFrom", message: source.message });
      else if (source.placeholder.ref.kind === "artifact") parents.add(source.placeholder.ref.step);
    }
    const queueError = checkQueue(step.executionQueue);
    if (queueError) problems.push({ step: step.name, field: "executionQueue", message: queueError });

    const placeholders: Placeholder[] = [];
    const task = tasks.get(step.name);
    const literalOverrides: Record<string, unknown> = {};
    /** Overrides whose placeholders are all `${pipeline.x}` with a value, substituted. */
    const parameterOverrides: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(step.parameterOverride)) {
      const field = `parameterOverride.${key}`;
      if (task) {
        try {
          task.resolveParameterName(key);
        } catch (error) {
          problems.push({ step: step.name, field, message: (error as Error).message });
          continue;
        }
      }
      let found: Placeholder[];
      try {
        found = findPlaceholders(value);
      } catch (error) {
        problems.push({ step: step.name, field, message: (error as Error).message });
        continue;
      }
      if (found.length === 0) literalOverrides[key] = value;
      // Pipeline parameters are known now: an override made only of them is known now too.
      else if (found.every((f) => f.ref.kind === "pipeline")) {
        const known = knownParameterValues(found, spec, context.parameters);
        if (known) parameterOverrides[key] = substitute(value, (f) => known.get(f.raw)!);
      }
      for (const placeholder of found) {
        const message = mapPlaceholderProblem(placeholder, step.name, maps) ?? checkPlaceholder(placeholder, step.name, spec, nameSet, tasks);
        if (message) problems.push({ step: step.name, field, message });
        const referenced = referencedStep(placeholder.ref);
        if (referenced && referenced !== step.name && nameSet.has(referenced)) parents.add(referenced);
      }
      placeholders.push(...found);
    }
    // Overrides without placeholders are checked now, so a type error never waits for launch time.
    // Each on its own first, so every bad one is reported (a clone stops at the first problem);
    // then together, for checks that span options.
    let overridesValid = true;
    const literalKeys = Object.keys(literalOverrides);
    if (task && literalKeys.length > 0) {
      let eachValid = true;
      for (const key of literalKeys) {
        const message = cloneProblem(task, literalKeys.length === 1 ? literalOverrides : { [key]: literalOverrides[key] });
        if (message) {
          eachValid = false;
          problems.push({ step: step.name, field: `parameterOverride.${key}`, message });
        }
      }
      // With one override, "together" is the clone just made: not made twice (100,000 steps).
      const message = eachValid && literalKeys.length > 1 ? cloneProblem(task, literalOverrides) : undefined;
      if (message) problems.push({ step: step.name, field: "parameterOverride", message });
      overridesValid = eachValid && !message;
    }
    if (task && overridesValid && context.hasModel) {
      const known = { ...literalOverrides, ...parameterOverrides };
      const model = literalStoreModel(
        task,
        known,
        Object.keys(step.parameterOverride).filter((k) => !(k in known)),
      );
      if (model) storeModels.push({ step: step.name, ...model });
    }
    if (task && !planned.has(step.name)) {
      planned.set(step.name, { spec: step, task, parents: [...parents].sort(), children: [], placeholders, priority: 0 });
    }
  }

  if (storeModels.length > 0 && context.hasModel) {
    const ids = [...new Set(storeModels.map((m) => m.id))];
    const found = new Map(await Promise.all(ids.map(async (id) => [id, await context.hasModel!(id)] as const)));
    for (const m of storeModels) {
      if (!found.get(m.id)) problems.push({ step: m.step, field: m.field, message: `${JSON.stringify(m.id)} is not a model in the store (modelFromStore is set)` });
    }
  }

  const graph = buildGraph(names, (n) => planned.get(n)?.parents ?? []);
  // A topological order that covers every step proves there is no cycle (no search needed).
  const order = topologicalOrder(graph, names);
  for (const cycle of findCyclePaths(graph, order)) {
    problems.push({ message: `cycle: ${cycle.join(" → ")}` });
  }
  const declared = Object.keys(spec.parameters);
  for (const name of Object.keys(context.parameters ?? {})) {
    if (name in spec.parameters) continue;
    const hint = didYouMean(name, declared);
    problems.push({
      field: `parameters.${name}`,
      message: `run parameter "${name}" is not declared by the pipeline${hint ? ` (did you mean "${hint}"?)` : ""} (declared: ${declared.length ? declared.join(", ") : "none"})`,
    });
  }
  if (problems.length > 0) throw new PipelineValidationError(spec.pipelineName, problems);

  const priority = longestRemainingPath(graph, order);
  for (const [name, step] of planned) {
    step.children = (graph.successors(name) ?? []).sort();
    step.priority = priority.get(name) ?? 1;
  }
  return maps.size > 0 ? expandMaps({ spec, steps: planned, order }, maps) : { spec, steps: planned, order };
}

/**
 * The store model id a `modelFromStore` step will look up, when it is known now: the step's
 * draft with its literal overrides has `modelFromStore` set and a literal `modelId`. `undefined`
 * when a placeholder sets either (known only at launch) or the step is not `modelFromStore`.
 * `field` is where the id was written (`modelId` of the draft, or the override key).
 */
function literalStoreModel(task: TaskDraft, literal: Record<string, unknown>, placeholderKeys: readonly string[]): { field: string; id: string } | undefined {
  const optionOf = (key: string): string | undefined => {
    try {
      return task.resolveParameterName(key)[0];
    } catch {
      return undefined;
    }
  };
  if (placeholderKeys.some((k) => ["modelId", "modelFromStore"].includes(optionOf(k) ?? ""))) return undefined;
  // Most steps are not modelFromStore at all: no clone for them (pipelines of 10,000 steps).
  if (task.options["modelFromStore"] !== true && !Object.keys(literal).some((k) => optionOf(k) === "modelFromStore")) return undefined;
  let options: Readonly<Record<string, unknown>>;
  try {
    options = Object.keys(literal).length > 0 ? task.clone(literal).options : task.options;
  } catch {
    return undefined;
  }
  if (options["modelFromStore"] !== true || typeof options["modelId"] !== "string") return undefined;
  const key = Object.keys(literal).find((k) => optionOf(k) === "modelId");
  return { field: key === undefined ? "modelId" : `parameterOverride.${key}`, id: options["modelId"] };
}

/** The values of `${pipeline.x}` placeholders for this run (given, else declared defaults), or `undefined` if one has none. */
function knownParameterValues(found: readonly Placeholder[], spec: PipelineSpec, given: Readonly<Record<string, unknown>> | undefined): Map<string, string | number | boolean> | undefined {
  const values = new Map<string, string | number | boolean>();
  for (const f of found) {
    if (f.ref.kind !== "pipeline") return undefined;
    const value = given?.[f.ref.param] ?? spec.parameters[f.ref.param]?.default;
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") return undefined;
    values.set(f.raw, value);
  }
  return values;
}

function checkPlaceholder(placeholder: Placeholder, stepName: string, spec: PipelineSpec, names: ReadonlySet<string>, tasks: ReadonlyMap<string, TaskDraft>): string | undefined {
  const { ref, raw } = placeholder;
  if (ref.kind === "item") return undefined; // see validate-maps.ts
  if (ref.kind === "pipeline") {
    if (ref.param in spec.parameters) return undefined;
    const hint = didYouMean(ref.param, Object.keys(spec.parameters));
    return `placeholder "${raw}" names unknown pipeline parameter "${ref.param}"${hint ? ` (did you mean "${hint}"?)` : ""}; add it with addParameter()`;
  }
  if (ref.step === stepName) return `placeholder "${raw}" refers to the step itself`;
  if (!names.has(ref.step)) {
    const hint = didYouMean(ref.step, [...names]);
    return `placeholder "${raw}" refers to unknown step "${ref.step}"${hint ? ` (did you mean "${hint}"?)` : ""}`;
  }
  if (ref.kind === "parameter") {
    const task = tasks.get(ref.step);
    if (task) {
      try {
        task.resolveParameterName(ref.name);
      } catch {
        return `placeholder "${raw}": step "${ref.step}" has no parameter "${ref.name}" (parameters: ${task.parameterNames().join(", ")})`;
      }
    }
  }
  return undefined;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const key in value) if (Object.hasOwn(value, key) && value[key] !== undefined) out[key] = value[key];
  return out as Partial<T>;
}

/**
 * Expanding map steps in a validated plan. A map step `gen` with N elements becomes N steps
 * `gen[0]` … `gen[N-1]` — each with the map's task and overrides, `${item…}` replaced by its own
 * values — and the map step itself, which runs no job: its parents are its elements, and it
 * settles once they are all final (runner/map-settle.ts).
 *
 * References into maps become edges between elements where they can: `${gen[3].…}` waits for
 * `gen[3]` only, and in a map over the same axes `${gen[item].…}` waits for the matching
 * element(s), so `eval[seed=0]` can start while `gen[seed=1]` still runs. `${gen[*].…}` waits for
 * the whole map. Selectors are rewritten to element indices here, so resolution needs no axes.
 *
 * @module
 */
import { type PipelineProblem, PipelineValidationError } from "../errors.js";
import { cloneProblem } from "./clone-problem.js";
import { buildGraph, longestRemainingPath, topologicalOrder } from "./graph.js";
import { elementKey, itemFieldsOf, type MapElement, requiredSuccesses } from "./map-spec.js";
import { escapePlaceholders, findPlaceholders, type PlaceholderValue, parseTemplate } from "./placeholders.js";
import type { PipelinePlan, PlannedStep } from "./plan-types.js";
import { type MapOfStep, type MapsByStep, matchingElements, sharedFields } from "./validate-maps.js";

/** See the module comment. Throws {@link PipelineValidationError} for element values a task refuses. */
export function expandMaps(plan: PipelinePlan, maps: MapsByStep): PipelinePlan {
  const steps = new Map<string, PlannedStep>();
  const problems: PipelineProblem[] = [];
  for (const name of plan.order) {
    const step = plan.steps.get(name)!;
    const own = maps.get(name);
    if (!own) {
      const overrides = rewriteOverrides(step, undefined, maps, problems);
      steps.set(name, { ...step, spec: { ...step.spec, parameterOverride: overrides as PlannedStep["spec"]["parameterOverride"] }, ...edges(step, overrides) });
      continue;
    }
    for (const elementStep of elementSteps(step, own, maps, problems)) steps.set(elementStep.spec.name, elementStep);
    const dynamic = own.map.itemsFrom;
    // A map whose items come from a parent waits for its parents and source, then expands (runner/dynamic-map.ts).
    const waitsFor =
      dynamic === undefined
        ? own.elements.map((e) => e.key)
        : [...new Set([...edges(step, step.spec.parameterOverride).parents, ...findPlaceholders(dynamic).flatMap((p) => (p.ref.kind === "artifact" ? [p.ref.step] : []))])].sort();
    steps.set(name, {
      ...step,
      parents: waitsFor,
      placeholders: [],
      map: {
        elements: own.elements,
        required: requiredSuccesses(own.map, own.elements.length),
        ...(own.map.maxParallel !== undefined ? { maxParallel: own.map.maxParallel } : {}),
        fields: itemFieldsOf(own.map) ?? [],
        ...(dynamic !== undefined ? { source: dynamic } : {}),
      },
    });
  }
  if (problems.length > 0) throw new PipelineValidationError(plan.spec.pipelineName, problems);
  const names = [...steps.keys()];
  const graph = buildGraph(names, (n) => steps.get(n)!.parents);
  const order = topologicalOrder(graph, names);
  const priority = longestRemainingPath(graph, order);
  for (const [name, step] of steps) {
    step.children = (graph.successors(name) ?? []).sort();
    step.priority = priority.get(name) ?? 1;
  }
  return { spec: plan.spec, steps, order };
}

/**
 * The element steps of map step `step` (its plan entry before expansion, or a dynamic map's
 * own entry at run time), each with `${item…}` filled in and its edges. A value the task
 * refuses, once every placeholder is gone, is a problem reported once per map (its first element).
 */
export function elementSteps(step: PlannedStep, own: MapOfStep, maps: MapsByStep, problems: PipelineProblem[]): PlannedStep[] {
  const name = step.spec.name;
  let reported = false;
  return own.elements.map((element) => {
    const overrides = rewriteOverrides(step, element, maps, problems);
    const { spec: _unused, map: _map, ...planned } = step;
    const elementStep: PlannedStep = {
      ...planned,
      spec: { ...stripMap(step.spec), name: element.key, parameterOverride: overrides as PlannedStep["spec"]["parameterOverride"] },
      ...edges(step, overrides),
      element: { map: name, index: element.index, label: element.label, item: element.item, ...(own.map.maxParallel !== undefined ? { throttle: own.map.maxParallel } : {}) },
    };
    if (!reported && elementStep.placeholders.length === 0) {
      const message = cloneProblem(step.task, overrides);
      if (message) {
        reported = true;
        problems.push({ step: name, field: "map", message: `element ${element.label}: ${message}` });
      }
    }
    return elementStep;
  });
}

function stripMap<T extends { map?: unknown }>(spec: T): Omit<T, "map"> {
  const { map: _map, ...rest } = spec;
  return rest;
}

/** Parents (declared, and those the rewritten placeholders point at) and the placeholders. */
function edges(step: PlannedStep, overrides: Record<string, unknown>): Pick<PlannedStep, "parents" | "placeholders"> {
  const placeholders = findPlaceholders(overrides);
  const parents = new Set(step.spec.parents.filter((p) => p !== step.spec.name));
  for (const { ref } of placeholders) {
    if (ref.kind === "pipeline" || ref.kind === "item") continue;
    if (ref.select?.kind === "indices") for (const i of ref.select.indices) parents.add(elementKey(ref.step, i));
    else parents.add(ref.step);
  }
  return { parents: [...parents].sort(), placeholders };
}

/** The step's overrides with `${item…}` filled in and element selectors turned into indices. */
function rewriteOverrides(step: PlannedStep, element: MapElement | undefined, maps: MapsByStep, problems: PipelineProblem[]): Record<string, unknown> {
  const own = element ? maps.get(step.spec.name) : undefined;
  const rewrite = (text: string, field: string): unknown => {
    const template = parseTemplate(text);
    const parts = template.map((part): { text: string } | { value: PlaceholderValue } => {
      if (typeof part === "string") return { text: escapePlaceholders(part) };
      const { ref, raw } = part;
      if (ref.kind === "item") {
        const item = element!.item;
        const value = ref.name === "index" ? element!.index : ref.name === undefined ? (item as PlaceholderValue) : (item as Record<string, PlaceholderValue>)[ref.name]!;
        return { value };
      }
      if (ref.kind === "pipeline" || !ref.select || ref.select.kind === "all" || ref.select.kind === "indices") return { text: raw };
      const target = maps.get(ref.step)!;
      const wanted = ref.select.kind === "values" ? ref.select.values : pick(element!.item, sharedFields(own!.map, target.map));
      const matches = matchingElements(target.elements, wanted);
      if (matches.length === 0) problems.push({ step: step.spec.name, field, message: `placeholder "${raw}": no element of "${ref.step}" matches ${element?.label ?? "it"}` });
      return { text: raw.replace(/\[[^\]]*\]/, `[${matches.map((m) => m.index).join(",")}]`) };
    });
    if (parts.length === 1 && "value" in parts[0]!) {
      const value = parts[0].value;
      return typeof value === "string" ? escapePlaceholders(value) : value;
    }
    return parts.map((p) => ("text" in p ? p.text : escapePlaceholders(String(p.value)))).join("");
  };
  const walk = (value: unknown, field: string): unknown => {
    if (typeof value === "string") return rewrite(value, field);
    if (Array.isArray(value)) return value.map((v) => walk(v, field));
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, field)]));
    return value;
  };
  return Object.fromEntries(Object.entries(step.spec.parameterOverride).map(([key, value]) => [key, walk(value, `parameterOverride.${key}`)]));
}

function pick(item: MapElement["item"], fields: readonly string[]): Record<string, unknown> {
  const values = item as Record<string, unknown>;
  return Object.fromEntries(fields.map((f) => [f, values[f]]));
}

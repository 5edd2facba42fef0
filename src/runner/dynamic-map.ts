/**
 * Maps whose items come from a parent (`map.itemsFrom: "${list.artifacts.subtasks.url}"`): once
 * the map's parents have succeeded, the controller reads the list (a JSON file the parent wrote,
 * visible where the controller runs), makes one element step per item — exactly as a static map's
 * are made at plan time — journals `map-expanded` with the items, and runs them. A resume makes
 * the same elements from the journal, so no element is made twice or lost.
 *
 * @module
 */
import { GpuDagError, type PipelineProblem } from "../errors.js";
import { readJobJson } from "../manifest/job-json.js";
import { elementSteps } from "../pipeline/expand-maps.js";
import { type ItemScalar, ItemsSchema, type MapSpec, mapElements, requiredSuccesses } from "../pipeline/map-spec.js";
import { type Placeholder, parseTemplate } from "../pipeline/placeholders.js";
import type { PlannedStep } from "../pipeline/plan-types.js";
import { resolvePlaceholder } from "./resolve-step.js";
import type { RunContext, StepState } from "./run-context.js";

/** Map items as journaled. */
export type MapItems = Array<ItemScalar | Record<string, ItemScalar>>;

/** A step's state before anything happened to it. */
export function freshState(planned: PlannedStep, queue: StepState["queue"], waitingParents = planned.parents.length): StepState {
  const name = planned.spec.name;
  return { name, phase: "pending", planned, queue, attempt: 0, jobFailures: 0, infraFailures: 0, waitingParents, result: { name, status: "pending", queue: planned.spec.executionQueue, attempts: 0 } };
}

/** True for a map whose elements are made at run time and are not made yet. */
export function awaitsExpansion(state: StepState): boolean {
  return state.planned.map?.source !== undefined && state.expanded !== true;
}

/**
 * Makes map `map`'s element steps for `items` and adds them to the run (no journal entry: see
 * {@link expandDynamicMap}; resume calls this with the journaled items). Returns the new states.
 */
export function registerElements(ctx: RunContext, map: StepState, items: MapItems): StepState[] {
  const spec = map.planned.spec.map as MapSpec;
  const elements = mapElements(map.name, { items });
  const own = { map: { ...spec, items }, elements };
  const problems: PipelineProblem[] = [];
  const planned = elementSteps(map.planned, own, new Map([[map.name, own]]), problems);
  if (problems.length > 0) throw new GpuDagError("E_PIPELINE_INVALID", `step "${map.name}": ${problems.map((p) => p.message).join("; ")}`);
  const states = planned.map((p) => freshState({ ...p, children: [map.name], priority: map.planned.priority + 1 }, map.queue, 0));
  ctx.addSteps(states);
  map.planned = { ...map.planned, map: { ...map.planned.map!, elements, required: requiredSuccesses(spec, elements.length) } };
  map.waitingParents += states.length;
  map.expanded = true;
  return states;
}

/** Reads the list, makes and journals the elements, and runs them; see the module comment. */
export async function expandDynamicMap(ctx: RunContext, map: StepState): Promise<void> {
  const source = parseTemplate(map.planned.map!.source!)[0] as Placeholder;
  let items: MapItems;
  try {
    const path = String(resolvePlaceholder(source, ctx.scope()));
    items = await readItems(path, source.raw);
    const states = registerElements(ctx, map, items);
    await ctx.journal.append({ type: "map-expanded", at: Date.now(), step: map.name, items });
    if (states.length === 0) ctx.markReady(map); // nothing to run: it settles now
    for (const state of states) ctx.markReady(state);
  } catch (error) {
    const reason = ctx.journal.scrub(`its items could not be made: ${(error as Error).message}`);
    void ctx.journal.appendTracked({ type: "map-finished", at: Date.now(), step: map.name, status: "failed", total: 0, required: 0, succeeded: 0, missing: [], reason });
    ctx.finishStep(map, "failed", reason);
  }
}

async function readItems(path: string, raw: string): Promise<MapItems> {
  const parsed = ItemsSchema.safeParse(await readJobJson(path, raw));
  if (!parsed.success) throw new GpuDagError("E_PLACEHOLDER", `${raw} (${path}) is not a list of scalars or of objects of scalars: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}

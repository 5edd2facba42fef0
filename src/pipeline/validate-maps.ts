/**
 * Validation of map steps and of the placeholders that reach into them: `${item.x}` names an
 * axis (or item field) of the step's own map; `${gen[…].…}` selects elements of a map step that
 * exist; a map step is never referred to without a selector (which elements would it mean?).
 *
 * @module
 */
import { didYouMean } from "../args/did-you-mean.js";
import { itemFieldsOf, type MapElement, type MapSpec, mapElements } from "./map-spec.js";
import { type ElementSelector, type Placeholder, parseTemplate } from "./placeholders.js";

/** A map step's map and its elements. */
export interface MapOfStep {
  map: MapSpec;
  elements: readonly MapElement[];
}

/** The map steps of a pipeline, by name. */
export type MapsByStep = ReadonlyMap<string, MapOfStep>;

/** Problems of a map step's own `map` (too many elements, a count above the element count). */
export function mapProblems(step: string, map: MapSpec): { field: string; message: string; elements?: MapElement[] } {
  let elements: MapElement[];
  try {
    elements = mapElements(step, map);
  } catch (error) {
    return { field: "map", message: (error as Error).message };
  }
  if (map.itemsFrom === undefined && map.minSuccess !== undefined && map.minSuccess > elements.length) {
    return { field: "map.minSuccess", message: `${map.minSuccess} is more than the map's ${elements.length} elements`, elements };
  }
  return { field: "", message: "", elements };
}

/** Why `placeholder`, written in step `stepName`, is wrong about maps; `undefined` when it is not. */
export function mapPlaceholderProblem(placeholder: Placeholder, stepName: string, maps: MapsByStep): string | undefined {
  const { ref, raw } = placeholder;
  const own = maps.get(stepName);
  if (ref.kind === "item") {
    if (!own) return `placeholder "${raw}": \${item…} is for map steps; step "${stepName}" has no map`;
    if (ref.name === "index" || own.map.itemsFrom !== undefined) return undefined; // items known at run time
    const fields = itemFieldsOf(own.map);
    if (fields === undefined) return ref.name === undefined ? undefined : `placeholder "${raw}": the items of "${stepName}" are scalars: write \${item}`;
    if (ref.name === undefined) return `placeholder "${raw}": the elements of "${stepName}" have fields (${fields.join(", ")}): write \${item.<field>}`;
    if (fields.includes(ref.name)) return undefined;
    const hint = didYouMean(ref.name, fields);
    return `placeholder "${raw}": map of "${stepName}" has no axis "${ref.name}"${hint ? ` (did you mean "${hint}"?)` : ""} (axes: ${fields.join(", ")}, or index)`;
  }
  if (ref.kind === "pipeline") return undefined;
  const target = maps.get(ref.step);
  if (!ref.select) {
    if (!target) return ref.kind === "elements" ? `placeholder "${raw}": .elements is for map steps, with a selector such as [*]` : undefined;
    const k = target.elements.length;
    return `placeholder "${raw}": "${ref.step}" is a map step (${k} element${k === 1 ? "" : "s"}): write ${raw.replace(ref.step, `${ref.step}[*]`)} for every element, [<index>] or [<axis>=<value>,…] for one${own ? ", [item] for the matching ones" : ""}`;
  }
  if (!target) return `placeholder "${raw}": "${ref.step}" is not a map step, it has no elements to select`;
  return selectorProblem(ref.select, raw, ref.step, target, own);
}

function selectorProblem(select: ElementSelector, raw: string, step: string, target: MapOfStep, own: { map: MapSpec } | undefined): string | undefined {
  const count = target.elements.length;
  if (target.map.itemsFrom !== undefined && select.kind !== "all") return `placeholder "${raw}": the elements of "${step}" are made at run time (itemsFrom): only [*] can refer to them`;
  switch (select.kind) {
    case "all":
      return undefined;
    case "indices": {
      const bad = select.indices.find((i) => i >= count);
      return bad === undefined ? undefined : `placeholder "${raw}": "${step}" has ${count} elements (indices 0–${count - 1}), not ${bad}`;
    }
    case "item": {
      if (!own) return `placeholder "${raw}": [item] matches elements of this map step's own item; this step has no map`;
      const shared = sharedFields(own.map, target.map);
      if (shared.length === 0) return `placeholder "${raw}": the maps of this step and "${step}" share no axis to match elements on`;
      return undefined;
    }
    case "values": {
      const fields = itemFieldsOf(target.map) ?? [];
      for (const name of Object.keys(select.values)) {
        if (!fields.includes(name)) {
          const hint = didYouMean(name, fields);
          return `placeholder "${raw}": "${step}" has no axis "${name}"${hint ? ` (did you mean "${hint}"?)` : ""} (axes: ${fields.join(", ") || "none"})`;
        }
      }
      const matches = matchingElements(target.elements, select.values);
      if (matches.length === 1) return undefined;
      return `placeholder "${raw}": ${matches.length === 0 ? "no element" : `${matches.length} elements`} of "${step}" ${matches.length === 0 ? "has" : "have"} these values; name every axis (${fields.join(", ")}) to pick one`;
    }
  }
}

/** The axes (or item fields) two maps both have. */
export function sharedFields(a: MapSpec, b: MapSpec): string[] {
  const other = new Set(itemFieldsOf(b) ?? []);
  return (itemFieldsOf(a) ?? []).filter((f) => other.has(f));
}

/** Elements whose item has these values (compared as text: selectors are written as text). */
export function matchingElements(elements: readonly MapElement[], values: Readonly<Record<string, unknown>>): MapElement[] {
  return elements.filter((e) => typeof e.item === "object" && Object.entries(values).every(([k, v]) => k in (e.item as object) && String((e.item as Record<string, unknown>)[k]) === String(v)));
}

/**
 * The placeholder of a map's `itemsFrom`, or why it is not one: it must be exactly one
 * `${<step>.artifacts.<name>.url}` of another step of the pipeline.
 */
export function itemsSourceOf(stepName: string, text: string, names: ReadonlySet<string>): { placeholder: Placeholder } | { message: string } {
  let parts: ReturnType<typeof parseTemplate>;
  try {
    parts = parseTemplate(text);
  } catch (error) {
    return { message: (error as Error).message };
  }
  const [only] = parts;
  const expected = `expected one \${<step>.artifacts.<name>.url} (a JSON file with the list), got ${JSON.stringify(text)}`;
  if (parts.length !== 1 || typeof only === "string" || only === undefined) return { message: expected };
  const { ref } = only;
  if (ref.kind !== "artifact" || ref.field !== "url" || ref.select) return { message: expected };
  if (ref.step === stepName) return { message: `${JSON.stringify(text)} refers to the step itself` };
  if (!names.has(ref.step)) {
    const hint = didYouMean(ref.step, [...names]);
    return { message: `${JSON.stringify(text)} refers to unknown step "${ref.step}"${hint ? ` (did you mean "${hint}"?)` : ""}` };
  }
  return { placeholder: only };
}

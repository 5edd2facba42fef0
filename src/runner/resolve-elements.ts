/**
 * Resolving placeholders that select elements of a map step: `${gen[3].…}` is element `gen[3]`'s
 * value, `${gen[2,5].…}` and `${gen[*].…}` are lists (`[*]`: the elements that succeeded, in
 * element order — the gaps are left out), and `${gen[*].elements}` is the path of a JSON file,
 * written into the job's attempt directory, that lists every element with its status and
 * outputs or reason, so a reducer sees the gaps explicitly (`${gen[item].elements}` and the
 * like list the selected elements only: a per-seed merge reads its seed's chunks).
 *
 * @module
 */
import { PlaceholderError } from "../errors.js";
import { elementKey, type MapElement } from "../pipeline/map-spec.js";
import type { Placeholder, PlaceholderRef, PlaceholderValue } from "../pipeline/placeholders.js";
import type { StepOutputs } from "../store/records.js";
import type { StepStatus } from "./run-types.js";

/** An element as placeholders see it. */
export interface ElementView {
  element: MapElement;
  status: StepStatus;
  reason?: string;
  outputs?: StepOutputs;
}

/** Files a step's job reads (`JobSpec.inputFiles`) and the directory the job sees them in. */
export interface JobInputs {
  /** The attempt directory as the job sees it. */
  dir: string;
  /** Relative path → content. */
  files: Record<string, string>;
}

type StepRef = Exclude<PlaceholderRef, { kind: "pipeline" } | { kind: "item" }>;

/**
 * The relative path of a map's collection file in a job's attempt directory:
 * `inputs/gen.elements.json` for every element, `inputs/gen.3-5-7.elements.json` for a selection.
 */
export function elementsFileOf(map: string, indices?: readonly number[]): string {
  if (indices === undefined) return `inputs/${map}.elements.json`;
  const shown = indices.length <= 8 ? indices.join("-") : `${indices[0]}-to-${indices.at(-1)}-${indices.length}`;
  return `inputs/${map}.${shown}.elements.json`;
}

/** The collection file's content: every element, in order, gaps explicit. */
export function elementsDocument(map: string, views: readonly ElementView[]): string {
  const elements = views.map((v) => ({
    index: v.element.index,
    step: v.element.key,
    label: v.element.label,
    item: v.element.item,
    status: v.status,
    ...(v.outputs && (v.status === "succeeded" || v.status === "cached") ? { outputs: v.outputs } : { missing: true, ...(v.reason ? { reason: v.reason } : {}) }),
  }));
  const succeeded = elements.filter((e) => "outputs" in e).length;
  return `${JSON.stringify({ map, total: elements.length, succeeded, missing: elements.length - succeeded, elements }, null, 2)}\n`;
}

/**
 * The value of a placeholder with an element selector. `one` resolves a placeholder on a single
 * step (the element's own name), as for any other step.
 */
export function resolveSelected(
  placeholder: Placeholder & { ref: StepRef },
  elements: readonly ElementView[] | undefined,
  one: (p: Placeholder) => string | number | boolean,
  inputs: JobInputs | undefined,
): PlaceholderValue {
  const { ref, raw } = placeholder;
  const select = ref.select!;
  if (!elements) throw new PlaceholderError(raw, `placeholder "${raw}": "${ref.step}" is not a map step`);
  const { select: _select, ...bare } = ref;
  const on = (key: string) => one({ ...placeholder, ref: { ...bare, step: key } as PlaceholderRef });
  if (ref.kind === "elements") {
    // [*] lists every element; a selection ([item], [3], [seed=0]: indices by now) only those.
    const chosen = select.kind === "indices" ? select.indices.map((i) => elements[i]).filter((e): e is ElementView => e !== undefined) : elements;
    const name = elementsFileOf(ref.step, select.kind === "indices" ? select.indices : undefined);
    const content = elementsDocument(ref.step, chosen);
    if (!inputs) return `<attempt dir>/${name}`;
    inputs.files[name] = content;
    return `${inputs.dir}/${name}`;
  }
  if (select.kind === "indices") {
    const keys = select.indices.map((i) => elementKey(ref.step, i));
    return keys.length === 1 ? on(keys[0]!) : keys.map(on);
  }
  if (select.kind === "all") {
    return elements.filter((e) => e.status === "succeeded" || e.status === "cached").map((e) => on(e.element.key));
  }
  // [item] and [axis=value] are rewritten to indices when the plan is expanded.
  throw new PlaceholderError(raw, `placeholder "${raw}": selector not expanded (a bug: plans expand maps)`);
}

/**
 * A typed way to build placeholder strings, so a typo is a compile error rather than a run-time
 * one: `step("step1").model(-1).id` → `"${step1.models.output.-1.id}"`.
 *
 * @module
 */

/** Placeholder builders for one step. */
export interface StepRef {
  /** `${<step>.id}` */
  readonly id: string;
  /** Model number `index` of the step's outputs (negative counts from the end). */
  model(index?: number): { readonly id: string; readonly url: string; readonly name: string };
  /** `${<step>.artifacts.<name>.url}` and `.id`. */
  artifact(name: string): { readonly url: string; readonly id: string };
  /** `${<step>.metrics.<name>}` */
  metric(name: string): string;
  /** `${<step>.parameters.<name>}` */
  parameter(name: string): string;
}

/** Placeholder builders for the elements of a map step (see {@link MapStepRef}). */
export interface ElementsRef extends Omit<StepRef, "id"> {
  /** `${<map>[…].elements}`: path of the JSON file listing the selected elements, gaps included. */
  readonly elements: string;
}

/** Placeholder builders for map step `name`: `step("gen").all.metric("score")` → `${gen[*].metrics.score}`. */
export interface MapStepRef {
  /** Every element that succeeded (a list), and `.elements`: every element. */
  readonly all: ElementsRef;
  /** In a map step: the element(s) whose values agree with this element's. */
  readonly item: ElementsRef;
  /** One element by index (`at(3)`) or by axis values (`at({ seed: 0, chunk: 1 })`). */
  at(selector: number | Readonly<Record<string, string | number | boolean>>): ElementsRef;
}

/** Placeholder builders for step `name`; for a map step, also `.all`, `.item` and `.at()`. */
export function step(name: string): StepRef & MapStepRef {
  const selected = (selector: string): ElementsRef => {
    const { id: _id, ...refs } = builders(`${name}[${selector}]`);
    return { ...refs, elements: "${" + `${name}[${selector}].elements` + "}" };
  };
  return {
    ...builders(name),
    get all() {
      return selected("*");
    },
    get item() {
      return selected("item");
    },
    at: (selector) =>
      selected(
        typeof selector === "number"
          ? String(selector)
          : Object.entries(selector)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(","),
      ),
  };
}

function builders(name: string): StepRef {
  const p = (body: string) => "${" + `${name}.${body}` + "}";
  return {
    id: p("id"),
    model: (index = -1) => ({
      id: p(`models.output.${index}.id`),
      url: p(`models.output.${index}.url`),
      name: p(`models.output.${index}.name`),
    }),
    artifact: (artifact) => ({ url: p(`artifacts.${artifact}.url`), id: p(`artifacts.${artifact}.id`) }),
    metric: (metric) => p(`metrics.${metric}`),
    parameter: (parameter) => p(`parameters.${parameter}`),
  };
}

/** `${pipeline.<name>}` */
export function pipelineParam(name: string): string {
  return "${" + `pipeline.${name}` + "}";
}

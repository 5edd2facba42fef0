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

/** Placeholder builders for step `name`. */
export function step(name: string): StepRef {
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

/**
 * `PipelineDefinition`: the pure part of a pipeline — steps, parameters, serialisation,
 * validation, Mermaid. `Pipeline` (in `../api/pipeline.ts`) adds execution on top.
 *
 * @module
 */
import { stringify as stringifyYaml } from "yaml";
import type { z } from "zod";
import { parseYamlWith, validateWith } from "../config/yaml-schema.js";
import { ConfigError } from "../errors.js";
import { type MermaidOptions, toMermaid } from "./mermaid.js";
import { PipelineFileSchema, type PipelineSpec, PipelineSpecSchema, type StepInput, StepPolicySchema, StepSpecSchema } from "./pipeline-spec.js";
import { type PipelinePlan, type ValidationContext, validatePipeline } from "./validate.js";

/** Pipeline-wide step defaults as written (durations as `"2h"` or seconds). */
export type StepDefaultsInput = Partial<NonNullable<z.input<typeof PipelineSpecSchema>["defaults"]>>;

/** Options of `new Pipeline(…)`. */
export interface PipelineOptions {
  projectName: string;
  pipelineName: string;
  description?: string;
  /** Policies for every step (each step may override). */
  defaults?: StepDefaultsInput;
}

/**
 * Options of `addStep()`; the seed's `add_step` arguments in camelCase. `executionQueue` may be
 * left out when the pipeline's `defaults.executionQueue` is set.
 */
export type AddStepOptions = Omit<StepInput, "executionQueue"> & { executionQueue?: string };

/** A pipeline as data, with a builder API. */
export class PipelineDefinition {
  #spec: PipelineSpec;

  constructor(options: PipelineOptions | PipelineSpec) {
    this.#spec = validateWith(PipelineFileSchema, { ...options }, "new Pipeline()");
  }

  /** Builds from a spec object (e.g. parsed JSON). */
  static fromSpec<T extends PipelineDefinition>(this: new (spec: PipelineSpec) => T, spec: unknown, file = "pipeline"): T {
    return new this(validateWith(PipelineFileSchema, spec, file));
  }

  /** Builds from YAML or JSON text; errors name `file`, the line and the field. */
  static fromYaml<T extends PipelineDefinition>(this: new (spec: PipelineSpec) => T, text: string, file = "pipeline.yaml"): T {
    return new this(parseYamlWith(PipelineFileSchema, text, file));
  }

  get projectName(): string {
    return this.#spec.projectName;
  }
  get pipelineName(): string {
    return this.#spec.pipelineName;
  }

  /** A copy of the pipeline as data. */
  toSpec(): PipelineSpec {
    return structuredClone(this.#spec);
  }
  /** YAML text (round-trips through {@link PipelineDefinition.fromYaml}). */
  toYaml(): string {
    return stringifyYaml(this.#spec);
  }
  /** JSON text. */
  toJSON(): PipelineSpec {
    return this.toSpec();
  }

  /** Declares `${pipeline.<name>}`. */
  addParameter(name: string, defaultValue?: string | number | boolean, description?: string): this {
    const parameters = {
      ...this.#spec.parameters,
      [name]: { ...(defaultValue !== undefined ? { default: defaultValue } : {}), ...(description ? { description } : {}) },
    };
    this.#spec = validateWith(PipelineSpecSchema, { ...this.#spec, parameters }, `addParameter("${name}")`);
    return this;
  }

  /**
   * Adds a step. Field errors (wrong types, bad name) throw at once; cross-step problems (unknown
   * parents, cycles, placeholders) are reported together by `validate()`.
   */
  addStep(options: AddStepOptions): this {
    const input = { ...options } as Record<string, unknown>;
    if (input["executionQueue"] === undefined && this.#spec.defaults.executionQueue) {
      input["executionQueue"] = this.#spec.defaults.executionQueue;
    }
    const where = `addStep(${JSON.stringify(String(options?.name ?? "?"))})`;
    const step = validateWith(StepSpecSchema, input, where);
    // Appended in place (copying the array on every call made building N steps O(N²)); plans
    // get their own copy of the list (see plan()), so a plan never sees steps added after it.
    this.#spec.steps.push(step);
    return this;
  }

  /** Adds an inline task draft (by key) usable as `baseTaskId` without a store. */
  addInlineTask(key: string, type: PipelineSpec["tasks"][string]["type"], options: Record<string, unknown>): this {
    this.#spec = { ...this.#spec, tasks: { ...this.#spec.tasks, [key]: { type, options } } };
    return this;
  }

  /** Sets policies for every step. */
  setDefaults(defaults: StepDefaultsInput): this {
    const merged = validateWith(StepPolicySchema.extend({ executionQueue: StepSpecSchema.shape.executionQueue.optional() }), { ...this.#spec.defaults, ...defaults }, "setDefaults()");
    this.#spec = { ...this.#spec, defaults: merged };
    return this;
  }

  /** Step names in insertion order. */
  stepNames(): string[] {
    return this.#spec.steps.map((s) => s.name);
  }

  /**
   * Validates against a task source and queue checker — every problem at once, as one
   * `PipelineValidationError` — and returns the plan (steps in topological order, resolved drafts).
   */
  plan(context: ValidationContext): Promise<PipelinePlan> {
    return validatePipeline({ ...this.#spec, steps: [...this.#spec.steps] }, context);
  }

  /** The DAG as a Mermaid `graph TD` (declared parents; placeholder edges once validated via `toMermaid(plan)`). */
  toMermaid(options: MermaidOptions = {}): string {
    return toMermaid(this.#spec, options);
  }
}

/** Parses pipeline text that may be YAML or JSON. */
export function parsePipelineText(text: string, file: string): PipelineSpec {
  try {
    return parseYamlWith(PipelineFileSchema, text, file);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${file}: ${(error as Error).message}`, { file });
  }
}

/** For callers holding plain JSON (JSON is YAML: the same parser, limits and located errors). */
export function parsePipelineJson(text: string, file: string): PipelineSpec {
  return parsePipelineText(text, file);
}

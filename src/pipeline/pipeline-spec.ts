/**
 * A pipeline as data: what `Pipeline` holds and what pipeline YAML/JSON files contain.
 *
 * @module
 */
import { z } from "zod";
import { DurationSchema } from "../config/duration.js";
import { MapSpecSchema } from "./map-spec.js";

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** The longest step name. */
const MAX_STEP_NAME = 64;
/** A name with no problem (each problem below is a way of not matching this). */
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Why `name` cannot be a step name, without repeating the name (the message shows the value):
 * `contains "é" (U+00E9), only ASCII letters, digits, "_" and "-" are allowed`.
 */
export function stepNameProblem(name: string): string | undefined {
  if (PLAIN_NAME.test(name) && name !== "item" && name !== "pipeline") return undefined; // the usual case, at once
  const bad = [...name].find((c) => !/[A-Za-z0-9_-]/.test(c));
  if (bad !== undefined) {
    const code = `U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
    // Control characters are named by code point only: printed, they would act on the terminal.
    const shown = /\p{Cc}/u.test(bad) ? `${code} (a control character)` : `${JSON.stringify(bad)} (${code})`;
    return `contains ${shown}, only ASCII letters, digits, "_" and "-" are allowed`;
  }
  if (!/^[A-Za-z_]/.test(name)) return 'must start with an ASCII letter or "_"';
  if (name === "item" || name === "pipeline") return `"${name}" is reserved (\${${name}.…} placeholders)`;
  return undefined;
}

/**
 * A step name: used in placeholders, file names and job names. ASCII letters, digits, `_` and
 * `-`, starting with a letter or `_`, at most 64 characters.
 */
export const StepNameSchema = z
  .string()
  .max(MAX_STEP_NAME)
  .superRefine((name, ctx) => {
    const problem = stepNameProblem(name);
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: name });
  });

/**
 * A queue name (`oneshot-a100x1`, `gpu.large`): it reaches job names, sbatch options and file
 * names, so spaces, control characters and shell syntax are refused where the name is written.
 */
export const QueueNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:+@-]*$/, 'must start with a letter or digit and hold only letters, digits and "_.:+@-"');

/** Per-step policies (with pipeline-wide defaults in `defaults`). */
export const StepPolicySchema = z.strictObject({
  /** Retries after a failure of the job itself (infrastructure failures have their own budget). */
  retryOnFailure: z.number().int().min(0).optional(),
  /** Wall-clock limit of one attempt. */
  timeLimit: DurationSchema.optional(),
  /** The run goes on as if the step had succeeded (its children run). */
  continueOnFail: z.boolean().optional(),
  /** Reuse the outputs of an identical earlier successful step. */
  cacheExecutedStep: z.boolean().optional(),
});
export type StepPolicy = z.infer<typeof StepPolicySchema>;

/** One step. */
export const StepSpecSchema = z.strictObject({
  name: StepNameSchema,
  /** A task draft id in the store, or the key of an inline task in the pipeline's `tasks`. */
  baseTaskId: z.string().min(1),
  parents: z.array(z.string()).default([]),
  /** Queue name, mapped by the cluster config (e.g. `oneshot-a100x1`). */
  executionQueue: QueueNameSchema,
  /** Draft options to replace: `modelId` or the seed's `Args/model_id`; values may hold placeholders. */
  parameterOverride: z.record(z.string(), z.union([Scalar, z.array(Scalar), z.record(z.string(), z.unknown())])).default({}),
  /**
   * Runs the step once per element: over `axes` (their cartesian product) or `items`. Element
   * values reach the task as `${item.<axis>}`; see map-spec.ts.
   */
  map: MapSpecSchema.optional(),
  ...StepPolicySchema.shape,
});
export type StepSpec = z.infer<typeof StepSpecSchema>;
/** Input form of a step (defaults not yet applied). */
export type StepInput = z.input<typeof StepSpecSchema>;

/** An inline task draft in a pipeline file. */
export const InlineTaskSchema = z.strictObject({
  type: z.enum(["llm-compressor", "lm-eval", "generate", "custom"]),
  options: z.record(z.string(), z.unknown()),
});

/** A pipeline parameter, referenced as `${pipeline.<name>}`. */
export const PipelineParameterSchema = z.strictObject({
  default: Scalar.optional(),
  description: z.string().optional(),
});

/** The whole pipeline. */
export const PipelineSpecSchema = z.strictObject({
  version: z.literal(1).default(1),
  projectName: z.string().min(1),
  pipelineName: z.string().min(1),
  description: z.string().optional(),
  parameters: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/), PipelineParameterSchema).default({}),
  /** Drafts defined in the file itself, by key. */
  tasks: z.record(z.string().min(1), InlineTaskSchema).default({}),
  /** Defaults for every step. */
  defaults: StepPolicySchema.extend({ executionQueue: QueueNameSchema.optional() }).default({}),
  steps: z.array(StepSpecSchema).default([]),
  /** Labels of this pipeline's runs (`run --name/--tag/--run-after` and the API add to them). */
  run: z
    .strictObject({
      name: z.string().min(1).optional(),
      tags: z.array(z.string().min(1)).optional(),
      runAfter: z.array(z.string().min(1)).optional(),
    })
    .optional(),
});
export type PipelineSpec = z.infer<typeof PipelineSpecSchema>;

/**
 * Pipeline data with `defaults.executionQueue` copied into every step that names no queue, as
 * `addStep()` does: pipeline files may rely on the default too. Anything else passes unchanged.
 */
export function withDefaultQueues(data: unknown): unknown {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return data;
  const spec = data as { defaults?: { executionQueue?: unknown }; steps?: unknown };
  const queue = spec.defaults?.executionQueue;
  if (typeof queue !== "string" || !Array.isArray(spec.steps)) return data;
  const steps = spec.steps.map((step: unknown) =>
    typeof step === "object" && step !== null && !Array.isArray(step) && (step as { executionQueue?: unknown }).executionQueue === undefined ? { ...step, executionQueue: queue } : step,
  );
  return { ...spec, steps };
}

/** {@link PipelineSpecSchema} for pipeline files and data: steps without a queue get `defaults.executionQueue`. */
export const PipelineFileSchema = z.preprocess(withDefaultQueues, PipelineSpecSchema);

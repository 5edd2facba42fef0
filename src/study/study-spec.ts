/**
 * What a study is, as data: the space of `${pipeline.x}` parameters it searches, the method, the
 * objective, the budget, concurrency and failure policy. The API (`new Study({...})`) and study
 * YAML files are validated by these schemas; `check-study.ts` adds the checks that need the
 * pipeline (declared parameters, steps the objective names).
 *
 * A parameter's space, in YAML:
 *
 * ```yaml
 * scheme: [W4A16, W8A8]                                 # values (grid: each one; random: a uniform choice)
 * group_size: { values: [64, 128] }                     # the same, spelled out (`choice:` is an alias)
 * damp: { float: { min: 0.001, max: 0.1, log: true, count: 3 } }   # random: log-uniform; grid: 3 log-spaced points
 * samples: { int: { min: 16, max: 128, step: 16 } }     # grid: 16, 32, …, 128; random: uniform on that lattice
 * ```
 *
 * @module
 */
import { z } from "zod";

const Scalar = z.union([z.string(), z.number(), z.boolean()]);
/** A `${pipeline.<name>}` parameter name (as pipeline specs allow). */
const ParamName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, "must be a pipeline parameter name (letters, digits, _ . -)");

const IntRange = z.strictObject({
  min: z.number().int(),
  max: z.number().int(),
  /** Grid and random draws stay on min, min+step, … (default 1). */
  step: z.number().int().positive().optional(),
  /** Log scale: random draws log-uniformly; a grid takes `count` log-spaced points (rounded). */
  log: z.boolean().default(false),
  /** Grid points (log scale needs it; a linear grid defaults to every step). */
  count: z.number().int().min(2).optional(),
});
const FloatRange = z.strictObject({
  min: z.number(),
  max: z.number(),
  log: z.boolean().default(false),
  /** Grid points, evenly (or log-) spaced from min to max; needed for a grid. */
  count: z.number().int().min(2).optional(),
});

/** One parameter's space (see the module comment). */
export const ParameterSpaceSchema = z.preprocess(
  (value) => (Array.isArray(value) ? { values: value } : value && typeof value === "object" && "choice" in value && !("values" in value) ? { values: (value as { choice: unknown }).choice } : value),
  z.union([z.strictObject({ values: z.array(Scalar).min(1) }), z.strictObject({ int: IntRange }), z.strictObject({ float: FloatRange })]).superRefine((space, ctx) => {
    const range = "int" in space ? space.int : "float" in space ? space.float : undefined;
    if (!range) return;
    if (range.min >= range.max) ctx.addIssue({ code: "custom", message: `min ${range.min} must be below max ${range.max}`, path: ["min"] });
    if (range.log && range.min <= 0) ctx.addIssue({ code: "custom", message: `a log scale needs min > 0, got ${range.min}`, path: ["min"] });
  }),
);
/** One parameter's space. */
export type ParameterSpace = z.infer<typeof ParameterSpaceSchema>;

/** The objective: an expression (see objective.ts) and whether bigger is better. */
export const ObjectiveSpecSchema = z.preprocess(
  (value) => (typeof value === "string" ? { expression: value } : value),
  z.strictObject({
    expression: z.string().min(1),
    goal: z.enum(["maximize", "minimize"]).default("maximize"),
  }),
);
/** The objective. */
export type ObjectiveSpec = z.infer<typeof ObjectiveSpecSchema>;

/** Successive halving: rung budgets through one pipeline parameter. */
export const HalvingSpecSchema = z.strictObject({
  /** The `${pipeline.<parameter>}` that sets a trial's budget, e.g. lm-eval's `limit`. */
  parameter: ParamName,
  /** Its value on each rung, smallest budget first (the last is the full evaluation). */
  rungs: z.array(Scalar).min(2),
  /** Each rung keeps the best 1/eta of the one before (default 3). */
  eta: z.number().int().min(2).default(3),
  /** How the first rung's configurations are drawn (default: grid when every axis is a list of values, else random). */
  sampler: z.enum(["grid", "random"]).optional(),
});

/** How a failed trial, or one without the objective, counts. */
export const TrialFailurePolicy = {
  /** Recorded failed with its reason; it has no objective value (the default). */
  Fail: "fail",
  /** Recorded failed, with the worst objective told so far imputed (never the best). */
  Worst: "worst",
  /** Run again as a new child run, up to `retries` times; then recorded failed. */
  Retry: "retry",
} as const;

/** The study itself (the pipeline and where it runs come with it: see `StudyRecord`). */
export const StudySpecSchema = z.strictObject({
  /** A name for people (`study table` shows it); the id is generated. */
  name: z.string().min(1).max(128).optional(),
  method: z.enum(["grid", "random", "halving"]).default("grid"),
  /** The searched `${pipeline.x}` parameters and their spaces. */
  parameters: z.record(ParamName, ParameterSpaceSchema).refine((p) => Object.keys(p).length > 0, "a study needs at least one parameter to search"),
  /** Values of other `${pipeline.x}` parameters, the same in every trial. */
  fixed: z.record(ParamName, Scalar).default({}),
  objective: ObjectiveSpecSchema,
  /** Trial budget: grid default every point; random: required; halving: first-rung configurations (default eta^(rungs-1)). */
  trials: z.number().int().positive().optional(),
  /** Trials driven at once (default 1). */
  concurrency: z.number().int().positive().default(1),
  /** Seed of random draws (random and a halving study's random sampler). */
  seed: z.number().int().default(0),
  onTrialFailure: z.enum([TrialFailurePolicy.Fail, TrialFailurePolicy.Worst, TrialFailurePolicy.Retry]).default(TrialFailurePolicy.Fail),
  /** New runs a failed trial gets under `onTrialFailure: retry` (default 1). */
  retries: z.number().int().min(1).default(1),
  halving: HalvingSpecSchema.optional(),
});
/** A validated study spec. */
export type StudySpec = z.infer<typeof StudySpecSchema>;
/** A study spec as written (defaults not applied). */
export type StudySpecInput = z.input<typeof StudySpecSchema>;

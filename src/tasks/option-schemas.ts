/**
 * Zod building blocks for task options, and the formatter that turns zod issues into
 * {@link TaskOptionError}s naming the option, the value and what was expected.
 *
 * @module
 */
import { z } from "zod";
import { didYouMean } from "../args/did-you-mean.js";
import { issueText } from "../config/issue-text.js";
import { knownKeysAt } from "../config/unknown-keys.js";
import { TaskOptionError } from "../errors.js";

/** Numbers also accepted as numeric strings, since resolved placeholders are strings. */
export function numberOption<T extends z.ZodNumber>(schema: T) {
  return z.preprocess((v) => (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v), schema);
}

/** Booleans also accepted as `"true"` / `"false"`. */
export const booleanOption = z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean());

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");

/** Options every task draft has. */
export const baseOptionsShape = {
  /** Project the draft belongs to (the seed's `project_name`). */
  projectName: z.string().min(1),
  /** Human-readable name of the draft (the seed's `task_name`). */
  taskName: z.string().min(1),
  /** `real` runs the tool; `simulate` runs a stand-in process writing outputs of the same shape. */
  runtime: z.enum(["real", "simulate"]).optional(),
  /** Python interpreter for the job (default: the queue's, the cluster's, then the gpu-dag venv). */
  python: z.string().min(1).optional(),
  /** Extra environment for the job (not secret). */
  env: z.record(EnvName, z.string()).default({}),
  /** Names of variables to forward from the controller's environment as secrets (never stored). */
  secretEnv: z.array(EnvName).default([]),
  tags: z.array(z.string()).default([]),
};

/** Options of tasks that take a model. */
export const modelOptionsShape = {
  /** A local path, a hub name, or (with `modelFromStore`) a store model id such as `${step1.models.output.-1.id}`. */
  modelId: z.string().min(1),
  /**
   * `modelId` is a store model id: resolve it to the model's path before the job runs. The seed's
   * `clearml_model=True`.
   */
  modelFromStore: booleanOption.default(false),
};

/**
 * Validates `options` with `schema`, or throws a {@link TaskOptionError} for the first problem,
 * naming the option and the value: `LMEvalTask option "numFewshot": expected a number, got "five"
 * (string)`, `LMEvalTask option "runtime": "simulat" is not one of "real", "simulate" (did you
 * mean "simulate"?)`.
 */
export function parseTaskOptions<S extends z.ZodType>(schema: S, options: unknown, taskClass: string): z.output<S> {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TaskOptionError(taskClass, "(options)", `${taskClass}: options must be an object, got ${describe(options)}`);
  }
  const parsed = schema.safeParse(options, { reportInput: true });
  if (parsed.success) return parsed.data;
  // An unknown option first: a misspelt required option (`modelID`) would otherwise be reported as missing.
  const issue = parsed.error.issues.find((i) => i.code === "unrecognized_keys") ?? parsed.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const known = issue.path.length === 0 ? knownKeys(schema) : knownKeysAt(schema, options, issue.path);
    const hint = didYouMean(key, known);
    throw new TaskOptionError(
      taskClass,
      [...issue.path, key].join("."),
      `${taskClass}: unknown option "${[...issue.path, key].join(".")}"${hint ? ` (did you mean "${hint}"?)` : ""}; known options: ${known.join(", ")}`,
    );
  }
  if (issue.code === "invalid_key" && issue.path.length > 0) {
    // A bad record key (e.g. an `env` name): name the key and say why, not the value under it.
    const option = issue.path.slice(0, -1).map(String).join(".") || "(options)";
    const key = String(issue.path[issue.path.length - 1]);
    const why = issue.issues[0]?.message ?? issue.message;
    throw new TaskOptionError(taskClass, option, `${taskClass} option "${option}": key ${JSON.stringify(key)} ${why}`);
  }
  const option = issue.path.map(String).join(".") || "(options)";
  throw new TaskOptionError(taskClass, option, `${taskClass} option "${option}": ${issueText(schema, options, issue)}`);
}

/** Top-level option names of an object schema. */
export function knownKeys(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

/** `"five" (string)`, `3 (number)`, `[1,2] (array)`. */
export function describe(value: unknown): string {
  const type = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  if (text.length > 80) text = text.slice(0, 77) + "...";
  return `${text} (${type})`;
}

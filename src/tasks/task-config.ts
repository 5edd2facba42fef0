/**
 * Task configs: the `config` option of a task draft. A value is, in this order:
 * the name of a bundled config (`quantization_w4a16`, `openllm`, …), a path to a YAML file, or
 * inline YAML text. Each kind of task has its own schema; the `kind` field must match the task.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { didYouMean } from "../args/did-you-mean.js";
import { fileSizeProblem } from "../config/document-limits.js";
import { parseYamlWith } from "../config/yaml-schema.js";
import { ConfigError } from "../errors.js";
import { bundledConfigDir } from "../package-root.js";

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Config of an llm-compressor task. The recipe is YAML text with optional `$name` arguments. */
export const CompressorConfigSchema = z.strictObject({
  kind: z.literal("llm-compressor"),
  description: z.string().optional(),
  recipe: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  recipeArgs: z.record(z.string(), Scalar).default({}),
  dataset: z.string().min(1).optional(),
  numSamples: z.number().int().positive().optional(),
  maxSeqLength: z.number().int().positive().optional(),
  saveCompressed: z.boolean().optional(),
});
export type CompressorConfig = z.infer<typeof CompressorConfigSchema>;

/** Config of an lm-eval task. */
export const EvalConfigSchema = z.strictObject({
  kind: z.literal("lm-eval"),
  description: z.string().optional(),
  tasks: z.array(z.string().min(1)).min(1),
  numFewshot: z.number().int().min(0).nullable().optional(),
  batchSize: z.union([z.number().int().positive(), z.literal("auto"), z.string().regex(/^auto:\d+$/, 'must be a positive integer, "auto" or "auto:N"')]).optional(),
  backend: z.enum(["hf", "vllm"]).optional(),
  limit: z.number().positive().optional(),
  applyChatTemplate: z.boolean().optional(),
  modelArgs: z.record(z.string(), Scalar).optional(),
  includePath: z.string().optional(),
});
export type EvalConfig = z.infer<typeof EvalConfigSchema>;

/** Config of a generation task. */
export const GenerateConfigSchema = z.strictObject({
  kind: z.literal("generate"),
  description: z.string().optional(),
  serverType: z.enum(["vllm", "sglang", "trtllm", "openai", "transformers", "custom"]).optional(),
  serverArgs: z.string().optional(),
  numRandomSeeds: z.number().int().positive().optional(),
  maxConcurrency: z.number().int().positive().optional(),
  promptConfig: z.string().optional(),
});
export type GenerateConfig = z.infer<typeof GenerateConfigSchema>;

const SCHEMAS = {
  "llm-compressor": CompressorConfigSchema,
  "lm-eval": EvalConfigSchema,
  generate: GenerateConfigSchema,
} as const;

/** Kinds of task that take a `config`. */
export type ConfigKind = keyof typeof SCHEMAS;
/** The config type of each kind. */
export type ConfigOf<K extends ConfigKind> = z.output<(typeof SCHEMAS)[K]>;

/** Names of the bundled configs of one kind (or all), sorted. */
export function bundledConfigNames(kind?: ConfigKind): string[] {
  const dir = bundledConfigDir();
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.slice(0, -5))
    .filter((name) => kind === undefined || readKind(join(dir, `${name}.yaml`)) === kind)
    .sort();
}

/**
 * Resolves a `config` option for a task of `kind`: bundled name, then file path, then inline YAML.
 * `context` names the task in error messages (e.g. `LMEvalTask option "config"`).
 */
export function loadTaskConfig<K extends ConfigKind>(kind: K, value: string, context: string, cwd = process.cwd()): ConfigOf<K> {
  const schema = SCHEMAS[kind] as unknown as z.ZodType<ConfigOf<K>>;
  const bundled = join(bundledConfigDir(), `${value}.yaml`);
  if (/^[A-Za-z0-9_.-]+$/.test(value) && !/\.ya?ml$/.test(value)) {
    if (existsSync(bundled)) return parseYamlWith(schema, readFileSync(bundled, "utf8"), `bundled config "${value}"`);
    const names = bundledConfigNames(kind);
    const hint = didYouMean(value, names);
    throw new ConfigError(
      `${context}: unknown config "${value}"${hint ? ` (did you mean "${hint}"?)` : ""}; bundled ${kind} configs: ${names.join(", ")}; or give a path to a YAML file, or inline YAML`,
      { field: "config" },
    );
  }
  const path = isAbsolute(value) ? value : resolve(cwd, value);
  if (!value.includes("\n") && existsSync(path)) {
    const tooBig = fileSizeProblem(path);
    if (tooBig) throw new ConfigError(`${path}: invalid YAML: ${tooBig}`, { file: path, field: "config" });
    return parseYamlWith(schema, readFileSync(path, "utf8"), path);
  }
  if (/\.ya?ml$/.test(value) && !value.includes("\n")) {
    throw new ConfigError(`${context}: config file ${path} does not exist`, { file: path, field: "config" });
  }
  // Inline YAML: `kind` may be left out, since the task already says it (appended so line numbers hold).
  const text = /^kind:/m.test(value) ? value : `${value}\nkind: ${kind}\n`;
  return parseYamlWith(schema, text, `${context} (inline YAML)`);
}

function readKind(file: string): string | undefined {
  return /^kind:\s*([\w-]+)/m.exec(readFileSync(file, "utf8"))?.[1];
}

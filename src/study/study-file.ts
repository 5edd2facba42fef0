/**
 * Study files (YAML or JSON): the study spec (study-spec.ts) with its pipeline — a path, relative
 * to the study file, or the pipeline inline — and optionally where it runs:
 *
 * ```yaml
 * name: dampening-sweep
 * pipeline: compress-eval.yaml
 * method: grid
 * parameters:
 *   dampening_frac: [0.01, 0.05, 0.1]
 *   scheme: [W4A16, W8A8]
 * objective: { expression: 'eval.metrics["openllm/average"]', goal: maximize }
 * trials: 4
 * concurrency: 2
 * cluster: local          # a cluster config name or file (the CLI's --cluster wins)
 * ```
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { fileSizeProblem } from "../config/document-limits.js";
import { parseYamlWith } from "../config/yaml-schema.js";
import { ConfigError } from "../errors.js";
import { PipelineDefinition, parsePipelineText } from "../pipeline/pipeline-definition.js";
import type { PipelineSpec } from "../pipeline/pipeline-spec.js";
import { type StudySpec, StudySpecSchema } from "./study-spec.js";

/** A study file's schema: the spec, its pipeline, where it runs. */
export const StudyFileSchema = StudySpecSchema.extend({
  pipeline: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  cluster: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
  configDir: z.string().optional(),
  runtime: z.enum(["real", "simulate"]).optional(),
});

/** A study file, read: its spec, its pipeline (as data), and where it says it runs. */
export interface StudyFile {
  spec: StudySpec;
  pipeline: PipelineSpec;
  cluster?: string | Record<string, unknown>;
  configDir?: string;
  runtime?: "real" | "simulate";
}

/** Reads a study file; errors name the file, the line and the field (a pipeline file's, its own). */
export async function readStudyFile(file: string): Promise<StudyFile> {
  const text = await readText(file, "study file");
  const { pipeline, cluster, configDir, runtime, ...spec } = parseYamlWith(StudyFileSchema, text, file);
  const base = dirname(resolve(file));
  let pipelineSpec: PipelineSpec;
  if (typeof pipeline === "string") {
    const path = resolve(base, pipeline);
    pipelineSpec = parsePipelineText(await readText(path, `pipeline file (${file}: pipeline)`), path);
  } else {
    pipelineSpec = PipelineDefinition.fromSpec(pipeline, `${file}: pipeline`).toSpec();
  }
  return {
    spec,
    pipeline: pipelineSpec,
    // A config file is relative to the study file; a name is looked up as for `run --cluster`.
    ...(cluster !== undefined ? { cluster: typeof cluster === "string" && (/\.ya?ml$/.test(cluster) || cluster.includes("/")) ? resolve(base, cluster) : cluster } : {}),
    ...(configDir !== undefined ? { configDir: resolve(base, configDir) } : {}),
    ...(runtime ? { runtime } : {}),
  };
}

async function readText(file: string, what: string): Promise<string> {
  const tooBig = fileSizeProblem(file);
  if (tooBig) throw new ConfigError(`${file}: invalid YAML: ${tooBig}`, { file });
  return readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new ConfigError(error.code === "ENOENT" ? `${what} ${file} does not exist` : `cannot read ${what} ${file}: ${error.message}`, { file });
  });
}

/**
 * Reading a pipeline file and the `--param key=value` options of `run`.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import type { Pipeline } from "../api/pipeline.js";
import { fileSizeProblem } from "../config/document-limits.js";
import { ConfigError } from "../errors.js";
import { CliUsageError } from "./cli-error.js";

/**
 * Reads and parses a pipeline file (YAML or JSON) into a {@link Pipeline}. A file over the
 * document size limit (10 MiB) is refused before it is read.
 */
export async function readPipelineFile(file: string): Promise<Pipeline> {
  const tooBig = fileSizeProblem(file);
  if (tooBig) throw new ConfigError(`${file}: invalid YAML: ${tooBig}`, { file });
  const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new CliUsageError(error.code === "ENOENT" ? `pipeline file ${file} does not exist` : `cannot read pipeline file ${file}: ${error.message}`);
  });
  const { Pipeline } = await import("../api/pipeline.js");
  return Pipeline.fromYaml(text, file);
}

/** `["a=1", "b=x=y"]` → `{ a: "1", b: "x=y" }`; values stay text (placeholders render them as text anyway). */
export function parseParams(pairs: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CliUsageError(`--param ${JSON.stringify(pair)} must look like key=value`);
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return params;
}

/** Throws a usage error for `--force` names that are not steps. */
export function checkStepNames(option: string, names: readonly string[], steps: readonly string[]): void {
  const unknown = names.filter((n) => !steps.includes(n));
  if (unknown.length > 0) throw new CliUsageError(`${option} names unknown step${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => `"${n}"`).join(", ")} (steps: ${steps.join(", ")})`);
}

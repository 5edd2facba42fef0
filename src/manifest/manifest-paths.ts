/**
 * The paths an outputs manifest reports must lie inside the attempt directory the job wrote it
 * in (`$GPU_DAG_OUTPUT_DIR`): a model or artifact path may be relative to that directory or
 * absolute, but neither `../..`, nor an absolute path elsewhere, nor a symbolic link pointing out
 * of it is accepted — a step's outputs are what its job made, and later steps (and the store)
 * trust them. A path must also exist.
 *
 * The existence and symbolic-link checks need the job's files: they are made when the attempt
 * directory is visible where the controller runs (the local backend; Slurm with the controller
 * on the cluster or on a login node sharing its filesystem). When it is not (Slurm over SSH from
 * a laptop, where `jobDir` lives on the cluster), only the path itself is checked.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { lstat, realpath } from "node:fs/promises";
import { isAbsolute, join, normalize, relative, sep } from "node:path";
import { ManifestError } from "../errors.js";
import type { OutputsManifest } from "./outputs-manifest.js";

/** True when `path` is `dir` or lies under it (both normalised, absolute). */
function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/** Why one reported path is refused, or `undefined`. */
async function pathProblem(path: string, jobDir: string, visible: boolean, realJobDir: string): Promise<string | undefined> {
  const resolved = normalize(isAbsolute(path) ? path : join(jobDir, path));
  if (!isInside(resolved, jobDir)) return `is outside the attempt directory ${jobDir}`;
  if (!visible) return undefined;
  try {
    await lstat(resolved);
  } catch {
    return `does not exist (attempt directory ${jobDir})`;
  }
  let real: string;
  try {
    real = await realpath(resolved);
  } catch {
    return `is a broken symbolic link (attempt directory ${jobDir})`;
  }
  if (!isInside(real, realJobDir)) return `resolves through a symbolic link to ${real}, outside the attempt directory ${jobDir}`;
  return undefined;
}

/**
 * Checks every model and artifact path of `manifest` (read from `file`) against the attempt
 * directory `jobDir` as the job saw it; see the module comment. Throws one {@link ManifestError}
 * naming the manifest file and each bad path: `outputs manifest /…/outputs.json:
 * models.0.path "../../etc" is outside the attempt directory /…/attempt-1`.
 */
export async function checkManifestPaths(manifest: OutputsManifest, file: string, jobDir: string): Promise<void> {
  const dir = normalize(jobDir);
  const visible = existsSync(dir);
  const realDir = visible ? await realpath(dir) : dir;
  const entries = [...manifest.models.map((m, i) => ({ field: `models.${i}.path`, path: m.path })), ...manifest.artifacts.map((a, i) => ({ field: `artifacts.${i}.path`, path: a.path }))];
  const problems: string[] = [];
  for (const { field, path } of entries) {
    const problem = await pathProblem(path, dir, visible, realDir);
    if (problem) problems.push(`${field} ${JSON.stringify(path)} ${problem}`);
  }
  if (problems.length > 0) throw new ManifestError(file, `outputs manifest ${file}: ${problems.join("; ")}`);
}

/**
 * A JSON document a job wrote that the controller reads (e.g. the list of a map's `itemsFrom`):
 * sized before it is read (a runaway job may write gigabytes), parsed, and refused with the path
 * and the reason when it cannot be.
 *
 * @module
 */
import { readFile, stat } from "node:fs/promises";
import { sizeProblem } from "../config/document-limits.js";
import { ManifestError } from "../errors.js";

/** The parsed JSON of `path`; `what` names it in errors (`${list.artifacts.subtasks.url}`). */
export async function readJobJson(path: string, what: string): Promise<unknown> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new ManifestError(path, `${what} is ${path}, which cannot be read where the controller runs`);
  const tooBig = sizeProblem(info.size);
  if (tooBig) throw new ManifestError(path, `${what} (${path}): ${tooBig}`);
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new ManifestError(path, `${what} (${path}) is not JSON: ${(error as Error).message}`);
  }
}

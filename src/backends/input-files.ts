/**
 * `JobSpec.inputFiles`: files a job reads, written under its attempt directory before it starts.
 * Their names are relative paths the runner makes (`inputs/gen.elements.json`); one that would
 * leave the directory is refused rather than written.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, normalize } from "node:path";
import { BackendError } from "../errors.js";
import type { JobSpec } from "./queue-backend.js";

/** The input files of `spec` as (relative path, content), each checked to stay inside the attempt dir. */
export function inputFilesOf(spec: Pick<JobSpec, "inputFiles" | "jobName">): Array<[string, string]> {
  return Object.entries(spec.inputFiles ?? {}).map(([name, content]) => {
    const path = normalize(name);
    if (isAbsolute(path) || path.startsWith("..") || path === ".") throw new BackendError("job", `job ${spec.jobName}: input file "${name}" is not a path inside the attempt directory`);
    return [path, content];
  });
}

/** Writes `spec`'s input files under `dir` (the attempt directory as the job sees it). */
export function writeInputFiles(spec: Pick<JobSpec, "inputFiles" | "jobName">, dir: string): void {
  for (const [name, content] of inputFilesOf(spec)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}

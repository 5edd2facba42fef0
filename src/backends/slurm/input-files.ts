/**
 * A job's `inputFiles` (relative path → content), checked before anything is submitted: each
 * path must stay inside the attempt directory and leave gpu-dag's own files there alone.
 *
 * @module
 */
import { posix } from "node:path";
import { BackendError } from "../../errors.js";
import { OUTPUTS_FILE, STDERR_FILE, STDOUT_FILE } from "../queue-backend.js";
import { EXIT_CODE_FILE, SCRIPT_FILE, SECRET_ENV_FILE } from "./batch-script.js";

/** One input file, its path relative to the attempt directory. */
export interface InputFile {
  path: string;
  content: string;
}

/** Names in the attempt directory that gpu-dag writes or reads itself. */
const RESERVED = new Set([SCRIPT_FILE, SECRET_ENV_FILE, EXIT_CODE_FILE, `${EXIT_CODE_FILE}.tmp`, STDOUT_FILE, STDERR_FILE, OUTPUTS_FILE]);

/**
 * The files in a fixed order (by path), each path normalised. Throws a permanent
 * {@link BackendError} naming the path and why, for an absolute path, one with an empty, `.` or
 * `..` segment, a control character, or one of gpu-dag's own file names.
 */
export function checkedInputFiles(files: Readonly<Record<string, string>> | undefined): InputFile[] {
  if (files === undefined) return [];
  return Object.keys(files)
    .sort()
    .map((path) => {
      const problem = pathProblem(path);
      if (problem) throw new BackendError("slurm", `input file ${JSON.stringify(path)} ${problem}`, { permanent: true });
      return { path, content: files[path] ?? "" };
    });
}

function pathProblem(path: string): string | undefined {
  if (/\p{Cc}/u.test(path)) return "holds a control character";
  if (path.startsWith("/")) return "must be relative to the attempt directory";
  const segments = path.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) return 'must not have an empty, "." or ".." segment';
  if (RESERVED.has(segments[0] as string)) return `would overwrite gpu-dag's own ${segments[0]}`;
  return undefined;
}

/** The directories (relative) that must exist before the files are written; none for top-level ones. */
export function inputFileDirs(files: readonly InputFile[]): string[] {
  return [...new Set(files.map((f) => posix.dirname(f.path)).filter((d) => d !== "."))];
}

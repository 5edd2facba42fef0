/**
 * Renders the sbatch script of a Slurm job array that carries elements of a map step. Pure: the
 * same input always gives the same text (snapshot-tested).
 *
 * The array's script only dispatches: for array task `i` (`$SLURM_ARRAY_TASK_ID`) it enters
 * element `i`'s own attempt directory and runs that element's own script there (rendered by
 * `renderElementScript`: its argv, env, exit-code marker, secret file and time limit, as a single
 * job's), with stdout and stderr in that directory as `stdout.log` / `stderr.log`. Slurm's own
 * `%A_%a.out` / `%A_%a.err` files in the array's directory keep what happens before that (a
 * directory the node cannot reach, …). Every path is quoted; no secret is part of the input.
 *
 * @module
 */
import { shellQuote } from "../../args/shell-quote.js";
import { STDERR_FILE, STDOUT_FILE } from "../queue-backend.js";
import { checkedDirectives, oneLine, resourceDirectives, type SbatchOptions, SCRIPT_FILE } from "./batch-script.js";

/** Directory (under a run's job directory) holding one directory per array job. */
export const ARRAYS_DIR = ".arrays";
/**
 * File in an array's directory listing its elements: one `index␟jobName` line each (␟ = ASCII
 * unit separator). A resumed controller reads it to map a live array's tasks back to job names.
 */
export const ARRAY_ELEMENTS_FILE = "elements";

/** One element of an array, in array-index order. */
export interface ArrayElement {
  /** The element's own job name (`gd-<run>-gen.3-a1`). */
  jobName: string;
  /** Its attempt directory on the cluster. */
  remoteAttemptDir: string;
}

/** Everything the array's script needs; see {@link renderArrayScript}. */
export interface ArrayScriptInput {
  /** The array's Slurm job name (`arrayJobName`). */
  jobName: string;
  runId: string;
  /** The map step's name. */
  map: string;
  /** The array's directory on the cluster (absolute). */
  arrayDir: string;
  /** Options every element shares (same queue and resources). */
  sbatch: SbatchOptions;
  /** `%K`: most elements running at once, when capped. */
  throttle?: number;
  elements: readonly ArrayElement[];
}

/** `0-63` or `0-63%8`: the `--array` value for `count` tasks. */
export function arrayRange(count: number, throttle?: number): string {
  return `${count === 1 ? "0" : `0-${count - 1}`}${throttle !== undefined ? `%${throttle}` : ""}`;
}

/** The array's `#SBATCH` options (without the prefix), in a fixed order. */
export function arrayDirectives(input: Pick<ArrayScriptInput, "jobName" | "arrayDir" | "sbatch" | "throttle" | "elements">): string[] {
  const dir = input.arrayDir;
  return checkedDirectives([
    `--job-name=${input.jobName}`,
    `--array=${arrayRange(input.elements.length, input.throttle)}`,
    `--output=${dir}/%A_%a.out`,
    `--error=${dir}/%A_%a.err`,
    `--chdir=${dir}`,
    ...resourceDirectives(input.sbatch),
  ]);
}

/** Renders the array's script; see the module comment. Pure and deterministic. */
export function renderArrayScript(input: ArrayScriptInput): string {
  const task = '"${SLURM_ARRAY_TASK_ID:-}"';
  return [
    "#!/bin/bash",
    ...arrayDirectives(input).map((d) => `#SBATCH ${d}`),
    `# gpu-dag run ${oneLine(input.runId)}, map ${oneLine(input.map)}: ${input.elements.length} elements, each with its own script and attempt directory`,
    "set -euo pipefail",
    `case ${task} in`,
    ...input.elements.map((e, i) => `  ${i}) __gd_dir=${shellQuote(e.remoteAttemptDir)} ;; # ${oneLine(e.jobName)}`),
    `  *) printf 'gpu-dag: array task %s has no element\\n' ${task} >&2; exit 2 ;;`,
    "esac",
    'cd -- "$__gd_dir"',
    `exec /bin/bash "$__gd_dir/${SCRIPT_FILE}" >"$__gd_dir/${STDOUT_FILE}" 2>"$__gd_dir/${STDERR_FILE}"`,
    "",
  ].join("\n");
}

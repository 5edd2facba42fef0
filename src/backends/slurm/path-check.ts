/**
 * Checking, before a run's first job, that the paths its steps need are there on the cluster —
 * in ONE remote command for all of them, however many steps and paths:
 *
 * - the job directory: created if missing, and writable (jobs, logs and outputs go under it);
 * - each step's inputs (`modelId`, `inputFile`, …): must exist;
 * - each step's output directories: with `checkPaths: create` created (`mkdir -p`), else they must
 *   exist writable or be creatable by the job (their nearest existing parent writable);
 * - the Python interpreter of each queue the run uses, when it is a path;
 * - the source of each bind mount of a queue that runs in a container: must exist.
 *
 * Each problem names the step (grouped when many share it), the field and the path. Paths are
 * checked as the user jobs run as sees them, on the node the transport reaches (the login node);
 * `~/` is that user's home.
 *
 * @module
 */
import { shellQuote } from "../../args/shell-quote.js";
import type { SlurmClusterConfig } from "../../config/cluster-config.js";
import type { PathProblem, StepPaths } from "../queue-backend.js";
import { wrapProgram } from "./remote-scripts.js";
import type { SlurmJobConfig } from "./resolve-job.js";
import type { ExecResult } from "./transport.js";

/** The config fields the check reads. */
export type PathCheckConfig = Pick<SlurmJobConfig, "queues" | "containers" | "mounts" | "python"> & Partial<Pick<SlurmClusterConfig, "checkPaths">>;

type Kind = "input" | "output" | "jobdir";

/** One path to check, and who needs it. */
export interface PathCheck {
  path: string;
  kind: Kind;
  owners: { step?: string; field: string; what: string }[];
}

const DONE = "__gd_paths_done";

/** Every distinct check for `steps` (pure). */
export function pathChecks(config: PathCheckConfig, steps: readonly StepPaths[], jobDir: string): PathCheck[] {
  const checks = new Map<string, PathCheck>();
  const add = (path: string, kind: Kind, owner: PathCheck["owners"][number]) => {
    const key = `${kind}\0${path}`;
    const check = checks.get(key) ?? { path, kind, owners: [] };
    check.owners.push(owner);
    checks.set(key, check);
  };
  add(jobDir, "jobdir", { field: "jobDir", what: "jobDir" });
  for (const step of steps) {
    for (const need of step.paths) add(need.path, need.kind, { step: step.step, field: need.field, what: need.kind === "input" ? need.field : `output directory (${need.field})` });
    const queue = config.queues[step.queue];
    const python = queue?.python ?? config.python;
    if (python !== undefined && (python.startsWith("/") || python.startsWith("~/"))) {
      add(python, "input", { step: step.step, field: "python", what: `the Python interpreter of queue "${step.queue}"` });
    }
    if (queue?.container !== undefined) {
      for (const mount of config.mounts) {
        const source = mount.split(":")[0] ?? "";
        add(source, "input", { step: step.step, field: "mounts", what: `the source of container mount "${mount}" (queue "${step.queue}" runs in container "${queue.container}")` });
      }
    }
  }
  return [...checks.values()];
}

/** A path as a shell word: `~/x` becomes `"$HOME"/'x'`, anything else is quoted. */
function pathWord(path: string): string {
  if (path === "~") return '"$HOME"';
  return path.startsWith("~/") ? `"$HOME"/${shellQuote(path.slice(2))}` : shellQuote(path);
}

/**
 * The remote program: one line per check, each printing `<index> <verdict> [detail]` when the
 * path is not as needed, then a last line saying it ran to the end. Run by bash from stdin (as
 * one function, so nothing runs before all of it arrived).
 */
export function pathCheckProgram(checks: readonly PathCheck[], mode: "check" | "create"): string {
  const lines = [
    "set -u",
    // Missing input: `missing`; a dangling symlink too.
    '__gd_in() { [ -e "$2" ] || { [ -L "$2" ] && echo "$1 dangling" || echo "$1 missing"; }; }',
    // An output directory: created (create), or existing and writable, or creatable by the job.
    `__gd_mk() { local err; err="$(mkdir -p -- "$2" 2>&1)" || { echo "$1 failed $(printf %s "$err" | tr '\\n' ' ')"; return; }; [ -w "$2" ] || echo "$1 unwritable"; }`,
    '__gd_out() { if [ -d "$2" ]; then [ -w "$2" ] || echo "$1 unwritable"; return; fi; [ -e "$2" ] && { echo "$1 notdir"; return; }; local p="$2"; while [ ! -e "$p" ]; do p="$(dirname -- "$p")"; done; { [ -d "$p" ] && [ -w "$p" ]; } || echo "$1 blocked $p"; }',
  ];
  checks.forEach((check, index) => {
    const fn = check.kind === "input" ? "__gd_in" : check.kind === "jobdir" || mode === "create" ? "__gd_mk" : "__gd_out";
    lines.push(`${fn} ${index} ${pathWord(check.path)}`);
  });
  lines.push(`echo ${DONE}`);
  return wrapProgram(lines);
}

/** The problems the program's output reports; `undefined` when it did not run to the end. */
export function parsePathCheckOutput(stdout: string, checks: readonly PathCheck[]): PathProblem[] | undefined {
  const lines = stdout.split("\n").map((l) => l.trim());
  if (!lines.includes(DONE)) return undefined;
  const problems: PathProblem[] = [];
  for (const line of lines) {
    const match = /^(\d+) (\w+) ?(.*)$/.exec(line);
    const check = match ? checks[Number(match[1])] : undefined;
    if (!match || !check) continue;
    const [, , verdict = "", detail = ""] = match;
    for (const owner of check.owners) {
      const problem = { ...(owner.step !== undefined ? { step: owner.step } : {}), field: owner.field, message: describe(owner.what, check.path, verdict, detail) };
      problems.push(problem);
    }
  }
  return problems;
}

function describe(what: string, path: string, verdict: string, detail: string): string {
  switch (verdict) {
    case "missing":
      return `${what} ${path} does not exist on the cluster`;
    case "dangling":
      return `${what} ${path} is a symbolic link to nothing on the cluster`;
    case "unwritable":
      return `${what} ${path} is not writable on the cluster`;
    case "notdir":
      return `${what} ${path} exists on the cluster but is not a directory`;
    case "blocked":
      return `${what} ${path} does not exist on the cluster and cannot be created (${detail} is not a writable directory); create it, or set checkPaths: create`;
    default:
      return `${what} ${path} cannot be created on the cluster: ${detail || verdict}`;
  }
}

/**
 * Runs the check in one `exec` (counted by the caller). `[]` when `checkPaths` is `off`, or when
 * the cluster cannot be asked (the run then finds out as before, e.g. a refused connection).
 */
export async function checkClusterPaths(exec: (program: string) => Promise<ExecResult>, config: PathCheckConfig, steps: readonly StepPaths[], jobDir: string): Promise<PathProblem[]> {
  const mode = config.checkPaths ?? "check";
  if (mode === "off") return [];
  const checks = pathChecks(config, steps, jobDir);
  const result = await exec(pathCheckProgram(checks, mode)).catch(() => undefined);
  if (!result) return [];
  return parsePathCheckOutput(result.stdout, checks) ?? [];
}

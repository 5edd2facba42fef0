/**
 * Renders the sbatch script of one attempt. Pure: the same input always gives the same text
 * (snapshot-tested). Every value that reaches the shell is quoted with {@link shellQuote};
 * `#SBATCH` values, which sbatch reads itself, are checked to hold no whitespace or quotes.
 * Secrets are never part of the input: the script sources (and deletes) a 0600 env file that
 * the backend uploads separately.
 *
 * @module
 */
import { shellJoin, shellQuote } from "../../args/shell-quote.js";
import { BackendError } from "../../errors.js";
import { STDERR_FILE, STDOUT_FILE } from "../queue-backend.js";

/**
 * Name of the exit-code marker the script's EXIT trap writes into the attempt directory: the exit
 * code, followed by {@link TIME_LIMIT_MARK} when the script's watchdog stopped the command.
 */
export const EXIT_CODE_FILE = "exit_code";
/** Word after the exit code in the marker when the job outlived its time limit (`124 time-limit`). */
export const TIME_LIMIT_MARK = "time-limit";
/**
 * Seconds between the watchdog's SIGTERM and its SIGKILL when a job outlives its time limit.
 * Slurm's own `--time` is the limit rounded up to a minute, so it rarely fires first; when it
 * does, the job ends `TIMEOUT`, reported with the same reason.
 */
export const TIME_LIMIT_KILL_GRACE_SECONDS = 10;
/** Exit code of a command stopped by the watchdog (GNU `timeout`'s). */
export const TIME_LIMIT_EXIT = 124;
/** Name of the 0600 file holding secret env; sourced and deleted by the script as it starts. */
export const SECRET_ENV_FILE = ".secret.env";
/** Name of the batch script inside the attempt directory. */
export const SCRIPT_FILE = "job.sbatch";

/** `#SBATCH` options, resolved from the queue and the cluster config. */
export interface SbatchOptions {
  partition?: string;
  nodes: number;
  /** GPUs per node, rendered as `--gres=gpu:N` (ignored when `gres` is set). */
  gpus: number;
  /** Raw gres, e.g. `gpu:a100:2`. */
  gres?: string;
  cpusPerTask?: number;
  mem?: string;
  timeLimitSeconds?: number;
  constraint?: string;
  exclusive?: boolean;
  account?: string;
  qos?: string;
  /** Raw extra options, e.g. `--reservation=x`. */
  extra: readonly string[];
}

/** How the command is wrapped in a container, when the queue names one. */
export interface ContainerSpec {
  runtime: "pyxis" | "apptainer" | "singularity";
  image: string;
  /** `src:dst[:ro]` bind mounts. */
  mounts: readonly string[];
}

/** Everything the script needs; see {@link renderBatchScript}. */
export interface BatchScriptInput {
  jobName: string;
  runId: string;
  step: string;
  attempt: number;
  /** Attempt directory on the cluster (absolute). */
  remoteAttemptDir: string;
  sbatch: SbatchOptions;
  /** Shell lines run before the command (e.g. `module load cuda`), verbatim from the config. */
  setup: readonly string[];
  /** Non-secret environment; every value is quoted. */
  env: Readonly<Record<string, string>>;
  /**
   * gpu-dag's job environment (`GPU_DAG_RUN_ID`, …; see `job-environment.ts`), exported after
   * `env` so the job's own variables cannot override it. Quoted like `env`.
   */
  jobEnv?: Readonly<Record<string, string>>;
  argv: readonly string[];
  container?: ContainerSpec;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Formats seconds as Slurm's `D-HH:MM:SS`. */
export function slurmTime(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  const d = Math.floor(s / 86400);
  const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, "0")).join(":");
  return d > 0 ? `${d}-${hms}` : hms;
}

/** The `#SBATCH` option list (without the prefix), in a fixed order. */
export function sbatchDirectives(input: Pick<BatchScriptInput, "jobName" | "remoteAttemptDir" | "sbatch">): string[] {
  const dir = input.remoteAttemptDir;
  return checkedDirectives([`--job-name=${input.jobName}`, `--output=${dir}/${STDOUT_FILE}`, `--error=${dir}/${STDERR_FILE}`, `--chdir=${dir}`, ...resourceDirectives(input.sbatch)]);
}

/**
 * The options of {@link SbatchOptions} (partition, nodes, GPUs, …, the queue's extra ones) in a
 * fixed order: what a single job and an array job of the same queue and resources share.
 * Unchecked: pass the whole list through {@link checkedDirectives}.
 */
export function resourceDirectives(o: SbatchOptions): string[] {
  const lines: string[] = [];
  if (o.partition !== undefined) lines.push(`--partition=${o.partition}`);
  lines.push(`--nodes=${o.nodes}`);
  if (o.gres !== undefined) lines.push(`--gres=${o.gres}`);
  else if (o.gpus > 0) lines.push(`--gres=gpu:${o.gpus}`);
  if (o.cpusPerTask !== undefined) lines.push(`--cpus-per-task=${o.cpusPerTask}`);
  if (o.mem !== undefined) lines.push(`--mem=${o.mem}`);
  if (o.timeLimitSeconds !== undefined) lines.push(`--time=${slurmTime(o.timeLimitSeconds)}`);
  if (o.constraint !== undefined) lines.push(`--constraint=${o.constraint}`);
  if (o.exclusive) lines.push("--exclusive");
  if (o.account !== undefined) lines.push(`--account=${o.account}`);
  if (o.qos !== undefined) lines.push(`--qos=${o.qos}`);
  lines.push(...o.extra);
  return lines;
}

/** `lines`, once each is known to hold no whitespace, quotes, `\`, `` ` `` or `$` (sbatch reads them unquoted). */
export function checkedDirectives(lines: string[]): string[] {
  for (const line of lines) {
    if (/[\s'"\\`$]/.test(line)) {
      throw new BackendError("slurm", `sbatch option ${JSON.stringify(line)} must not contain whitespace, quotes, "\\", "\`" or "$"`);
    }
  }
  return lines;
}

/** The command line the script runs: `argv` quoted, wrapped in the container runtime if any. */
export function commandLine(argv: readonly string[], container?: ContainerSpec): string {
  if (argv.length === 0) throw new BackendError("slurm", "job argv is empty");
  if (!container) return shellJoin(argv);
  if (container.runtime === "pyxis") {
    const mounts = container.mounts.length > 0 ? [`--container-mounts=${container.mounts.join(",")}`] : [];
    return shellJoin(["srun", "--ntasks=1", `--container-image=${container.image}`, ...mounts, ...argv]);
  }
  const binds = container.mounts.flatMap((m) => ["--bind", m]);
  return shellJoin([container.runtime, "exec", "--nv", ...binds, container.image, ...argv]);
}

/** `export NAME='value'` lines, sorted by name; names are checked, values quoted. */
function exportLines(env: Readonly<Record<string, string>>): string[] {
  return Object.keys(env)
    .sort()
    .map((name) => {
      if (!ENV_NAME.test(name)) throw new BackendError("slurm", `invalid environment variable name ${JSON.stringify(name)}`);
      return `export ${name}=${shellQuote(env[name] ?? "")}`;
    });
}

/**
 * The lines that run the command. With a time limit, it runs under GNU `timeout` (its own process
 * group, so everything it started is stopped too): SIGTERM at the limit, SIGKILL
 * {@link TIME_LIMIT_KILL_GRACE_SECONDS} later. A 124/137 only counts as the limit when the limit
 * really elapsed (a command may exit 124 on its own).
 */
function runLines(command: string, limit: number | undefined): string[] {
  if (limit === undefined) return [command];
  const seconds = Math.max(1, Math.ceil(limit));
  return [
    `# time limit: ${seconds}s, enforced here to the second (Slurm's --time is rounded up to a minute)`,
    "__gd_code=0",
    "__gd_t0=$SECONDS",
    `timeout --signal=TERM --kill-after=${TIME_LIMIT_KILL_GRACE_SECONDS}s ${seconds}s ${command} || __gd_code=$?`,
    `if { [ "$__gd_code" -eq ${TIME_LIMIT_EXIT} ] || [ "$__gd_code" -eq 137 ]; } && [ $((SECONDS - __gd_t0)) -ge ${seconds} ]; then __gd_timed_out=1; __gd_code=${TIME_LIMIT_EXIT}; fi`,
    'exit "$__gd_code"',
  ];
}

/** `text` on one line, for a comment. */
export function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}

/** Renders the batch script. Pure and deterministic. */
export function renderBatchScript(input: BatchScriptInput): string {
  return ["#!/bin/bash", ...sbatchDirectives(input).map((d) => `#SBATCH ${d}`), ...scriptBody(input)].join("\n");
}

/**
 * Renders the script of one element of an array job: the same as {@link renderBatchScript}'s
 * but without `#SBATCH` lines (the array's script holds them, and it starts this one in the
 * element's attempt directory with stdout and stderr already there). Pure and deterministic.
 */
export function renderElementScript(input: BatchScriptInput): string {
  return ["#!/bin/bash", "# an element of a gpu-dag array job: its array's script runs it (Slurm options are there)", ...scriptBody(input)].join("\n");
}

/** Everything after the `#SBATCH` lines, ending in an empty line. */
function scriptBody(input: BatchScriptInput): string[] {
  const dir = shellQuote(input.remoteAttemptDir);
  const envLines = exportLines(input.env);
  // Without a resolved jobEnv (hand-built inputs), at least the output directory.
  const jobEnvLines = exportLines(input.jobEnv ?? { GPU_DAG_OUTPUT_DIR: input.remoteAttemptDir });
  return [
    `# gpu-dag run ${oneLine(input.runId)}, step ${oneLine(input.step)}, attempt ${input.attempt}`,
    "set -euo pipefail",
    `__gd_dir=${dir}`,
    "# Exit-code marker: written atomically on any exit, so completion is known without slurmdbd.",
    `__gd_exit() { __gd_code=$?; printf '%s\\n' "$__gd_code\${__gd_timed_out:+ ${TIME_LIMIT_MARK}}" > "$__gd_dir/${EXIT_CODE_FILE}.tmp" && mv -f "$__gd_dir/${EXIT_CODE_FILE}.tmp" "$__gd_dir/${EXIT_CODE_FILE}"; exit "$__gd_code"; }`,
    "trap __gd_exit EXIT",
    "trap 'exit 143' TERM",
    "trap 'exit 130' INT",
    "# Secrets: a 0600 file uploaded beside this script, read once and deleted.",
    `if [ -f "$__gd_dir/${SECRET_ENV_FILE}" ]; then set -a; . "$__gd_dir/${SECRET_ENV_FILE}"; set +a; rm -f "$__gd_dir/${SECRET_ENV_FILE}"; fi`,
    ...(input.setup.length > 0 ? ["# setup (from the cluster config; may read unset variables)", "set +u", ...input.setup, "set -u"] : []),
    ...envLines,
    "# gpu-dag's job environment (after the job's own: it cannot be overridden)",
    ...jobEnvLines,
    ...runLines(commandLine(input.argv, input.container), input.sbatch.timeLimitSeconds),
    "",
  ];
}

/**
 * The secret env file's text: `NAME='value'` lines (sourced with `set -a`). Only ever sent over
 * the transport's channel into a 0600 file; never part of the script.
 */
export function renderSecretEnv(secretEnv: Readonly<Record<string, string>>): string {
  return Object.keys(secretEnv)
    .sort()
    .map((name) => {
      if (!ENV_NAME.test(name)) throw new BackendError("slurm", `invalid secret environment variable name ${JSON.stringify(name)}`);
      return `${name}=${shellQuote(secretEnv[name] ?? "")}\n`;
    })
    .join("");
}

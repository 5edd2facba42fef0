/**
 * From a cluster config and a {@link JobSpec} to the resolved {@link BatchScriptInput}: the typed
 * stage between "what the pipeline asked" and "what sbatch gets".
 *
 * @module
 */
import { posix } from "node:path";
import type { SlurmClusterConfig } from "../../config/cluster-config.js";
import { ConfigError } from "../../errors.js";
import { splitSecretEnv } from "../../store/redact.js";
import { jobEnvironment } from "../job-environment.js";
import type { JobSpec } from "../queue-backend.js";
import type { BatchScriptInput, ContainerSpec, SbatchOptions } from "./batch-script.js";

/** The part of a Slurm cluster config the backend uses (so tests can build one by hand). */
export type SlurmJobConfig = Pick<SlurmClusterConfig, "jobDir" | "account" | "partition" | "qos" | "queues" | "env" | "setup" | "python" | "containers" | "containerRuntime" | "mounts">;

const SAFE_SEGMENT = /[^A-Za-z0-9_.-]/g;

/**
 * A step name as one directory name, injective (no two steps share a directory) and safe
 * (no `/`, no leading `.`, nothing a shell or a glob reads specially):
 *
 * - a plain step name (`[A-Za-z0-9_-]+`, every name a pipeline accepts) stays as it is;
 * - a map element `gen[3]` becomes `gen.3` (as in its job name: "." is in no plain name);
 * - anything else has every byte outside `[A-Za-z0-9_-]` written as `+XX` (hex of its UTF-8
 *   bytes; "+" itself too), so `gen_3_` and a literal `gen+5B3+5D` never meet `gen[3]`.
 *
 * The three forms cannot meet: only the second holds a "." without a "+", only the third a "+".
 */
export function stepDirName(step: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(step)) return step;
  const element = /^([A-Za-z0-9_-]+)\[(\d+)\]$/.exec(step);
  if (element) return `${element[1]}.${element[2]}`;
  if (step === "") return "+";
  let out = "";
  for (const byte of Buffer.from(step, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `+${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * Attempt directory on the cluster: `<jobDir>/<runId>/<step>/a<attempt>` (the run id made
 * filesystem-safe, the step by {@link stepDirName}). Deterministic, so an adopted job is found again.
 */
export function remoteAttemptDir(jobDir: string, spec: Pick<JobSpec, "runId" | "step" | "attempt">): string {
  return posix.join(jobDir, runDirName(spec.runId), stepDirName(spec.step), `a${spec.attempt}`);
}

/** The run id as a directory name (unchanged for the ids gpu-dag makes). */
export function runDirName(runId: string): string {
  return runId.replace(SAFE_SEGMENT, "_");
}

/**
 * `#SBATCH` options for a job. GPUs, nodes, CPUs, memory and time come from the spec's resources
 * alone: they are final (the queue's were resolved into them, and the step's time limit narrowed
 * them). The queue gives only what resources do not say: partition, gres type, constraint, ….
 */
export function sbatchOptionsFor(config: SlurmJobConfig, spec: JobSpec): SbatchOptions {
  const queue = config.queues[spec.queue];
  const partition = queue?.partition ?? config.partition;
  const { cpus, mem, timeLimitSeconds: time, nodes, gpus } = spec.resources;
  const gres = queue?.gres === undefined ? undefined : gresWithCount(queue.gres, gpus);
  return {
    ...(partition !== undefined ? { partition } : {}),
    nodes,
    gpus,
    ...(gres !== undefined ? { gres } : {}),
    ...(cpus !== undefined ? { cpusPerTask: cpus } : {}),
    ...(mem !== undefined ? { mem } : {}),
    ...(time !== undefined ? { timeLimitSeconds: time } : {}),
    ...(queue?.constraint !== undefined ? { constraint: queue.constraint } : {}),
    ...(queue?.exclusive !== undefined ? { exclusive: queue.exclusive } : {}),
    ...(config.account !== undefined ? { account: config.account } : {}),
    ...(config.qos !== undefined ? { qos: config.qos } : {}),
    extra: queue?.extraSbatch ?? [],
  };
}

/** A `gpu[:type]:N` gres with the spec's GPU count; any other gres verbatim. */
function gresWithCount(gres: string, gpus: number): string {
  const match = /^gpu(:[^:]+)?:\d+$/.exec(gres);
  return match ? `gpu${match[1] ?? ""}:${gpus}` : gres;
}

/** The container a job runs in, when its queue names one. */
export function containerFor(config: SlurmJobConfig, spec: JobSpec): ContainerSpec | undefined {
  const name = config.queues[spec.queue]?.container;
  if (name === undefined) return undefined;
  const image = config.containers[name];
  if (image === undefined) {
    throw new ConfigError(`queue "${spec.queue}" names container "${name}", which is not in "containers"`, {
      field: `queues.${spec.queue}.container`,
    });
  }
  return { runtime: config.containerRuntime ?? "pyxis", image, mounts: config.mounts };
}

/**
 * argv with a leading `python`/`python3` replaced by the configured interpreter (queue's, then
 * cluster's), so job-side runners use the cluster's venv.
 */
export function argvFor(config: SlurmJobConfig, spec: JobSpec): readonly string[] {
  const python = config.queues[spec.queue]?.python ?? config.python;
  const [first, ...rest] = spec.argv;
  if (python !== undefined && (first === "python" || first === "python3")) return [python, ...rest];
  return spec.argv;
}

/**
 * The job's environment variables whose names look secret (`*TOKEN*`, `*KEY*`, …; see
 * `store/redact.ts`), from the cluster config's `env` and the spec's. They never go into the
 * batch script: the backend sends them with the secrets, in the 0600 env file.
 */
export function secretLookingEnv(config: Pick<SlurmJobConfig, "env">, spec: Pick<JobSpec, "env">): Record<string, string> {
  return splitSecretEnv({ ...config.env, ...spec.env }).secret;
}

/**
 * Resolves everything {@link renderBatchScript} needs. `jobDir` must already be absolute. The
 * script's `env` leaves out secret-looking names ({@link secretLookingEnv}); `jobEnv` is
 * gpu-dag's own job environment ({@link jobEnvironment}).
 */
export function resolveBatchJob(config: SlurmJobConfig, spec: JobSpec, jobDir: string): BatchScriptInput {
  const container = containerFor(config, spec);
  const dir = remoteAttemptDir(jobDir, spec);
  return {
    jobName: spec.jobName,
    runId: spec.runId,
    step: spec.step,
    attempt: spec.attempt,
    remoteAttemptDir: dir,
    jobEnv: jobEnvironment(spec, dir),
    sbatch: sbatchOptionsFor(config, spec),
    setup: config.setup,
    env: splitSecretEnv({ ...config.env, ...spec.env }).plain,
    argv: argvFor(config, spec),
    ...(container ? { container } : {}),
  };
}

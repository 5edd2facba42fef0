/**
 * Cluster configs: which backend runs a queue, and with what resources. YAML on disk, validated
 * by these zod schemas (the single source of truth; types come from `z.infer`, and
 * `clusterConfigJsonSchema()` gives editors a JSON Schema).
 *
 * ```yaml
 * executor: slurm
 * ssh: { host: login.example.org, user: me, identityFile: ~/.ssh/id_ed25519 }
 * jobDir: /shared/me/gpu-dag
 * account: llm
 * queues:
 *   oneshot-a100x1: { partition: gpu-a100, gpus: 1, time: 4h }
 *   services: { partition: cpu, cpus: 2 }
 * ```
 *
 * @module
 */
import { z } from "zod";
import { DurationSchema } from "./duration.js";

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");
const MemSchema = z.string().regex(/^\d+[KMGT]?$/i, 'must look like "16G", "512M" or "64000"');

/** One queue: a name pipelines use, mapped to a partition and resources. */
export const QueueConfigSchema = z.strictObject({
  /** Slurm partition (default: the cluster's `partition`). */
  partition: z.string().min(1).optional(),
  /** GPUs per node. */
  gpus: z.number().int().min(0).optional(),
  /** Raw gres instead of `gpus`, e.g. `gpu:a100:2`. */
  gres: z.string().min(1).optional(),
  nodes: z.number().int().positive().default(1),
  /** CPU cores per task. */
  cpus: z.number().int().positive().optional(),
  mem: MemSchema.optional(),
  /** Wall-clock limit. */
  time: DurationSchema.optional(),
  constraint: z.string().min(1).optional(),
  exclusive: z.boolean().optional(),
  /** Extra `#SBATCH` options, e.g. `--reservation=foo`. */
  extraSbatch: z.array(z.string().regex(/^--?[A-Za-z]/, "must be an sbatch option such as --reservation=x")).default([]),
  /** Container (a name from `containers`) jobs of this queue run in. */
  container: z.string().min(1).optional(),
  /** Python interpreter for this queue's jobs. */
  python: z.string().min(1).optional(),
  /**
   * Most jobs of one run on this queue at once (map elements and steps alike): the controller
   * holds the rest until one ends. Default: no cap (the backend's resources decide).
   */
  maxParallel: z.number().int().positive().optional(),
});

/** A queue as written in the config. */
export type QueueConfig = z.infer<typeof QueueConfigSchema>;

/** SSH settings for reaching a Slurm login node. */
export const SshConfigSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1),
  identityFile: z.string().min(1).optional(),
  /** known_hosts file (default `~/.ssh/known_hosts`). */
  knownHosts: z.string().min(1).optional(),
  /** `strict`: refuse unknown and changed keys. `accept-new`: record unknown keys, refuse changed ones. */
  hostKeyPolicy: z.enum(["strict", "accept-new"]).default("strict"),
  /** Seconds to wait for the connection. */
  readyTimeout: z.number().positive().default(20),
});

/** SSH settings. */
export type SshConfig = z.infer<typeof SshConfigSchema>;

const common = {
  /** Environment for every job (not secret: it may be written into scripts). */
  env: z.record(EnvName, z.string()).default({}),
  /** Variables that must be set where the controller runs; forwarded to jobs, never written to scripts. */
  requiredEnv: z.array(EnvName).default([]),
  /** Shell lines run before each job, e.g. `module load cuda/12`. */
  setup: z.array(z.string()).default([]),
  /** Python interpreter or venv path for job-side runners. */
  python: z.string().min(1).optional(),
  /** Container name → image. */
  containers: z.record(z.string().min(1), z.string().min(1)).default({}),
  containerRuntime: z.enum(["pyxis", "apptainer", "singularity"]).optional(),
  /** Bind mounts `src:dst` for containers. */
  mounts: z.array(z.string().regex(/^[^:]+:[^:]+(:[a-z,]+)?$/, 'must be "src:dst" or "src:dst:ro"')).default([]),
  queues: z.record(z.string().min(1), QueueConfigSchema).default({}),
};

/** A config running jobs as processes on this machine. */
export const LocalClusterConfigSchema = z.strictObject({
  executor: z.literal("local"),
  ...common,
  /** GPUs in the pool (default: detected from CUDA_VISIBLE_DEVICES or `nvidia-smi -L`). */
  gpus: z.number().int().min(0).optional(),
  /** Run at most this many jobs at once (default: unlimited, bounded by GPUs). */
  maxParallel: z.number().int().positive().optional(),
  /**
   * Directory of the machine-wide GPU lease files (default: `$GPU_DAG_LEASE_DIR`, else
   * `/tmp/gpu-dag-leases`). Every controller on the machine must use the same one.
   */
  leaseDir: z.string().min(1).optional(),
  /**
   * Accept queue names not listed in `queues`: a trailing `xN` (`oneshot-a100x1`) means N GPUs,
   * anything else none.
   */
  anyQueue: z.boolean().default(true),
});

/** A config submitting jobs to Slurm, over SSH or on a login node. */
export const SlurmClusterConfigSchema = z.strictObject({
  executor: z.literal("slurm"),
  ...common,
  /** Absent: sbatch runs on this machine (a login node). */
  ssh: SshConfigSchema.optional(),
  /** Directory on the cluster's shared filesystem for scripts, logs and outputs. */
  jobDir: z.string().min(1),
  account: z.string().min(1).optional(),
  /** Default partition. */
  partition: z.string().min(1).optional(),
  qos: z.string().min(1).optional(),
  /** Default time limit per partition (`default` for all others). */
  timeouts: z.record(z.string().min(1), DurationSchema).default({}),
  /** Queue used for controllers started by `executeRemotely()`. */
  servicesQueue: z.string().min(1).default("services"),
  /** Node.js on the cluster, for controllers started by `executeRemotely()`. */
  node: z.string().min(1).default("node"),
});

/** Any cluster config, discriminated on `executor`. */
export const ClusterConfigSchema = z.discriminatedUnion("executor", [LocalClusterConfigSchema, SlurmClusterConfigSchema]);

/** A validated cluster config. */
export type ClusterConfig = z.infer<typeof ClusterConfigSchema>;
/** A validated local config. */
export type LocalClusterConfig = z.infer<typeof LocalClusterConfigSchema>;
/** A validated Slurm config. */
export type SlurmClusterConfig = z.infer<typeof SlurmClusterConfigSchema>;

/** The built-in `local` config: every queue runs here, `…xN` queues get N GPUs. */
export function builtinLocalConfig(): LocalClusterConfig {
  return LocalClusterConfigSchema.parse({ executor: "local" });
}

/** JSON Schema of cluster configs, for editors (`# yaml-language-server: $schema=…`). */
export function clusterConfigJsonSchema(): unknown {
  return z.toJSONSchema(ClusterConfigSchema, { io: "input", unrepresentable: "any" });
}

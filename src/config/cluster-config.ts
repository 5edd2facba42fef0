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

/**
 * SSH settings for reaching a Slurm login node, as OpenSSH would: `host` may be an alias of the
 * OpenSSH client config (`~/.ssh/config`), whose `HostName`, `User`, `Port`, `IdentityFile`,
 * `ProxyJump`, `ServerAliveInterval`, … apply; a value set here wins over the config's.
 */
export const SshConfigSchema = z.strictObject({
  /** An alias of the OpenSSH client config, or a host name. */
  host: z.string().min(1),
  /** Default: the ssh config's `Port`, else 22. */
  port: z.number().int().min(1).max(65535).optional(),
  /** Default: the ssh config's `User`, else the local user name. */
  user: z.string().min(1).optional(),
  /** Private key file, tried after the agent's keys (default: the ssh config's `IdentityFile`s, else `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`). */
  identityFile: z.string().min(1).optional(),
  /** known_hosts file for every hop (default: the ssh config's `UserKnownHostsFile`, else `~/.ssh/known_hosts`, plus the system's). */
  knownHosts: z.string().min(1).optional(),
  /** `strict`: refuse unknown and changed keys. `accept-new`: record unknown keys, refuse changed ones. Default: `strict` (or the ssh config's `StrictHostKeyChecking accept-new`). */
  hostKeyPolicy: z.enum(["strict", "accept-new"]).optional(),
  /** Seconds to wait for each hop's connection (default: the ssh config's `ConnectTimeout`, else 20). */
  readyTimeout: z.number().positive().optional(),
  /** OpenSSH client config to read (default `~/.ssh/config`, then `/etc/ssh/ssh_config`); `none` reads none. */
  configFile: z.string().min(1).optional(),
  /** Jump hosts, as OpenSSH's `ProxyJump`: `[user@]host[:port]`, comma-separated, each itself resolved through the ssh config; `none` for none. Default: the ssh config's. */
  proxyJump: z.string().min(1).optional(),
  /** ssh-agent socket (default: the ssh config's `IdentityAgent`, else `$SSH_AUTH_SOCK`); `none`: use no agent. */
  agent: z.string().min(1).optional(),
  /** Seconds between keepalives on a quiet connection; 0 turns them off. Default: the ssh config's `ServerAliveInterval`, else 10. */
  serverAliveInterval: z.number().int().min(0).optional(),
  /** Keepalives left unanswered before the connection counts as dropped (default: the ssh config's `ServerAliveCountMax`, else 3). */
  serverAliveCountMax: z.number().int().positive().optional(),
});

/** SSH settings. */
export type SshConfig = z.infer<typeof SshConfigSchema>;

/** What a run shipped of the user's code: recorded when the run is created, not written by hand. */
export const CodeSnapshotSchema = z.strictObject({
  /** The repository's top level on the machine that created the run. */
  root: z.string().min(1),
  /** `HEAD`'s commit. */
  commit: z.string().regex(/^[0-9a-f]{40,64}$/),
  /** True when the shipped tree differs from the commit (uncommitted changes were shipped). */
  dirty: z.boolean(),
  /** Git tree id of what is shipped (HEAD plus the uncommitted diff): its content address. */
  tree: z.string().regex(/^[0-9a-f]{40,64}$/),
  /** Untracked files left out (`untracked: warn`) or shipped (`include`). */
  untracked: z.array(z.string()).default([]),
});

/** A recorded {@link CodeSnapshotSchema}. */
export type CodeSnapshot = z.infer<typeof CodeSnapshotSchema>;

/**
 * The user's code, shipped to the cluster for every job of a run: `git archive` of `HEAD` plus the
 * uncommitted diff, uploaded once per content (an unchanged repository is not uploaded again),
 * unpacked under the run's directory in `jobDir`, first on the job's `PYTHONPATH`.
 */
export const CodeConfigSchema = z.strictObject({
  /** A directory inside a git repository on the machine that creates the run (its top level is shipped). */
  dir: z.string().min(1),
  /** Untracked (and not ignored) files: `refuse` the run, `warn` and ship without them (default), or `include` them. */
  untracked: z.enum(["refuse", "warn", "include"]).default("warn"),
  /** Where jobs start: in the shipped code (`code`, default) or in their attempt directory (`attempt`). */
  workdir: z.enum(["code", "attempt"]).default("code"),
  /** Set when the run is created: what it ships (root, commit, dirty flag, content hash). */
  snapshot: CodeSnapshotSchema.optional(),
});

/** Code shipping settings. */
export type CodeConfig = z.infer<typeof CodeConfigSchema>;

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
  /**
   * Paths the run's steps need on the cluster, checked in one round trip before the first job:
   * `check` (default) refuses missing inputs and container mount sources and output directories
   * that cannot be created; `create` also creates the output directories; `off` checks nothing.
   */
  checkPaths: z.enum(["check", "create", "off"]).optional(),
  /** The user's code to ship with every job: `{ dir, untracked, workdir }` (README, "Running on Slurm"). */
  code: CodeConfigSchema.optional(),
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

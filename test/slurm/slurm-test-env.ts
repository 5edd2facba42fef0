/**
 * The real Slurm + sshd started by `scripts/test-env/slurm-up.sh`, as the `slurm` test tier sees
 * it: connection settings from `.test-env/slurm.json`, configs and backends built from them.
 * A missing environment is an error that says how to start it (in CI and locally alike).
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type JobSpec, jobNameFor } from "../../src/backends/queue-backend.js";
import { LocalTransport } from "../../src/backends/slurm/local-transport.js";
import type { SlurmJobConfig } from "../../src/backends/slurm/resolve-job.js";
import { SlurmBackend, type SlurmBackendOptions } from "../../src/backends/slurm/slurm-backend.js";
import { stepResources } from "../../src/config/resolve-queue.js";
import type { ConformanceHarness, ConformanceSpecOptions } from "../conformance/queue-backend-conformance.js";

/** What slurm-up.sh wrote. */
export interface SlurmTestEnv {
  host: string;
  port: number;
  user: string;
  identityFile: string;
  knownHosts: string;
  jobDir: string;
  loginNodeJobDir: string;
  envDir: string;
  node: string;
  partitions: { cpu: string; gpuA100: string; gpuH100: string };
  gpusPerNode: number;
  sshdCtl: string;
}

const REPO = resolve(import.meta.dirname, "../..");
const SETTINGS = join(REPO, ".test-env/slurm.json");

/** Reads `.test-env/slurm.json`; throws (never skips) when the environment is not up. */
export function slurmTestEnv(): SlurmTestEnv {
  if (!existsSync(SETTINGS)) {
    throw new Error(`${SETTINGS} is missing: the slurm tier needs a real Slurm and sshd. Start them with ` + "`sudo bash scripts/test-env/slurm-up.sh` (the README's test command does this).");
  }
  return JSON.parse(readFileSync(SETTINGS, "utf8")) as SlurmTestEnv;
}

/**
 * Queues of the test cluster. `conformance`: 4 of the node's 8 CPUs per job, so 2 run at once,
 * with a 4 h queue time limit (a spec's shorter limit must win over it).
 */
export function testClusterConfig(env: SlurmTestEnv, over: "ssh" | "login-node"): SlurmBackendOptions["config"] {
  const config: SlurmJobConfig = {
    jobDir: over === "ssh" ? env.jobDir : env.loginNodeJobDir,
    partition: env.partitions.cpu,
    queues: {
      conformance: { partition: env.partitions.cpu, cpus: 4, nodes: 1, time: 4 * 3600, extraSbatch: [] },
      services: { partition: env.partitions.cpu, cpus: 1, nodes: 1, extraSbatch: [] },
      "cpu-small": { partition: env.partitions.cpu, cpus: 1, nodes: 1, time: 4 * 3600, extraSbatch: [] },
      "oneshot-a100x1": { partition: env.partitions.gpuA100, gpus: 1, cpus: 1, nodes: 1, extraSbatch: [] },
      "eval-h100x1": { partition: env.partitions.gpuH100, gpus: 1, cpus: 1, nodes: 1, extraSbatch: [] },
    },
    env: {},
    setup: [],
    containers: {},
    mounts: [],
  };
  if (over === "login-node") return config;
  return {
    ...config,
    ssh: {
      host: env.host,
      port: env.port,
      user: env.user,
      identityFile: env.identityFile,
      knownHosts: env.knownHosts,
      hostKeyPolicy: "strict",
      readyTimeout: 10,
    },
  };
}

/** A backend on the test cluster. */
export function testBackend(env: SlurmTestEnv, over: "ssh" | "login-node", options: Partial<SlurmBackendOptions> = {}): SlurmBackend {
  return new SlurmBackend({
    config: testClusterConfig(env, over),
    ...(over === "login-node" ? { transport: new LocalTransport() } : {}),
    ...options,
  });
}

/**
 * Spec factory with a fresh run id and a local temp root for attempt dirs. Resources are the
 * test cluster's queue's, narrowed by `timeLimitSeconds` as the runner does (`stepResources`):
 * backends take a spec's resources as final.
 */
export async function specFactory(prefix: string): Promise<{
  runId: string;
  localRoot: string;
  makeSpec(options: ConformanceSpecOptions & { queue?: string; gpus?: number }): JobSpec;
  cleanup(): Promise<void>;
}> {
  const runId = `${prefix}${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  const localRoot = await mkdtemp(join(tmpdir(), `gpu-dag-${prefix}-`));
  const queues = testClusterConfig(slurmTestEnv(), "login-node").queues;
  const resources = (queue: string, gpus: number | undefined, limit: number | undefined): JobSpec["resources"] => {
    const q = queues[queue];
    const fromQueue = { gpus: gpus ?? q?.gpus ?? 0, nodes: q?.nodes ?? 1, ...(q?.cpus !== undefined ? { cpus: q.cpus } : {}), ...(q?.time !== undefined ? { timeLimitSeconds: q.time } : {}) };
    return stepResources({ resources: fromQueue }, limit);
  };
  return {
    runId,
    localRoot,
    makeSpec: (o) => ({
      jobName: jobNameFor(runId, o.step, 1),
      runId,
      step: o.step,
      attempt: 1,
      queue: o.queue ?? "conformance",
      resources: resources(o.queue ?? "conformance", o.gpus, o.timeLimitSeconds),
      argv: o.argv,
      env: o.env ?? {},
      secretEnv: o.secretEnv ?? {},
      attemptDir: join(localRoot, o.step, "a1"),
      priority: 0,
    }),
    cleanup: () => rm(localRoot, { recursive: true, force: true }),
  };
}

/**
 * Every Slurm job id of this run that squeue still lists as pending or running (an array's
 * pending elements as one `123_[4-63%8]`).
 */
export function activeJobsOfRun(runId: string): string[] {
  const out = execFileSync("squeue", ["-h", "-t", "PENDING,RUNNING,CONFIGURING,COMPLETING", "-o", "%i %j"], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((l) => l.includes(`gd-${runId}-`))
    .map((l) => l.split(" ")[0] ?? "");
}

/** Cancels every job of a run still in squeue (test cleanup); an array by its array job id. */
export function cancelRun(runId: string): void {
  const out = execFileSync("squeue", ["-h", "-t", "PENDING,RUNNING,CONFIGURING,COMPLETING", "-o", "%F %j"], { encoding: "utf8" });
  const ids = [
    ...new Set(
      out
        .split("\n")
        .filter((l) => l.includes(`gd-${runId}-`))
        .map((l) => l.split(" ")[0] ?? ""),
    ),
  ];
  if (ids.length > 0) execFileSync("scancel", ids);
}

/** A conformance harness for the SlurmBackend over SSH or the login-node transport. */
export async function slurmHarness(over: "ssh" | "login-node"): Promise<ConformanceHarness> {
  const env = slurmTestEnv();
  const specs = await specFactory(over === "ssh" ? "cs" : "cl");
  const backends: SlurmBackend[] = [testBackend(env, over)];
  const jobRoot = join(over === "ssh" ? env.jobDir : env.loginNodeJobDir, specs.runId);
  return {
    backend: backends[0]!,
    makeSpec: specs.makeSpec,
    maxConcurrent: 2,
    jobFileDirs: [jobRoot],
    reopen: async () => {
      const b = testBackend(env, over);
      backends.push(b);
      return b;
    },
    cleanup: async () => {
      cancelRun(specs.runId);
      await Promise.all(backends.map((b) => b.close()));
      await specs.cleanup();
    },
  };
}

/**
 * A full cluster config (as a user would write it) for running pipelines on the test Slurm over
 * SSH: `oneshot-a100x1` on the fake-GPU partition, `services` on the CPU partition, the system
 * Python and Node for job-side runners and remote controllers.
 */
export function pipelineClusterConfig(env: SlurmTestEnv, jobEnv: Record<string, string> = {}): import("../../src/index.js").ClusterConfig {
  return {
    executor: "slurm",
    ssh: { host: env.host, port: env.port, user: env.user, identityFile: env.identityFile, knownHosts: env.knownHosts, hostKeyPolicy: "strict", readyTimeout: 20 },
    jobDir: env.jobDir,
    partition: env.partitions.cpu,
    python: "/usr/bin/python3",
    node: "/usr/bin/node",
    queues: {
      "oneshot-a100x1": { partition: env.partitions.gpuA100, gpus: 1, cpus: 1, nodes: 1, extraSbatch: [] },
      services: { partition: env.partitions.cpu, cpus: 1, nodes: 1, extraSbatch: [] },
    },
    env: jobEnv,
    requiredEnv: [],
    setup: [],
    containers: {},
    mounts: [],
    timeouts: {},
    servicesQueue: "services",
  };
}

/**
 * `executeRemotely()` on Slurm: the run's controller becomes a job on the cluster's services
 * queue (CPU only). What it needs is shipped once per version to
 * `<jobDir>/.controller/<hash>/` — a one-file controller bundle, the job-side Python runtime and
 * the bundled task configs, under a minimal package.json — and the run record is copied into a
 * store on the cluster (`<jobDir>/store`). The controller then submits with sbatch on the node it
 * runs on. Secrets (`requiredEnv`) reach it through the backend's 0600 env file, never a script.
 *
 * The local store keeps `remote.json` (job id, remote store) so `status` / `wait` can follow the
 * run by mirroring its journal.
 *
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import { join, posix, relative } from "node:path";
import { shellQuote } from "../args/shell-quote.js";
import { jobNameFor, type JobSpec } from "../backends/queue-backend.js";
import type { SlurmBackend } from "../backends/slurm/slurm-backend.js";
import type { Transport } from "../backends/slurm/transport.js";
import type { SlurmClusterConfig } from "../config/cluster-config.js";
import { resolveQueue } from "../config/resolve-queue.js";
import { ConfigError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import { atomicWrite } from "../store/atomic-write.js";
import type { Store } from "../store/store.js";
import { bundleController } from "./bundle-controller.js";

/** What the local store remembers of a run whose controller runs on a cluster. */
export interface RemoteRunInfo {
  /** Slurm job id of the controller. */
  jobId: string;
  /** Store directory on the cluster. */
  storeDir: string;
  /** The cluster config (to reach the cluster again: ssh settings). */
  cluster: SlurmClusterConfig;
}

/** Name of the file in the local run directory holding {@link RemoteRunInfo}. */
export const REMOTE_RUN_FILE = "remote.json";

/** Ships the controller and the run, and submits the controller job. */
export async function startSlurmController(store: Store, runId: string, config: SlurmClusterConfig, backend: SlurmBackend, transport: Transport): Promise<RemoteRunInfo> {
  const services = resolveQueue(config, config.servicesQueue);
  if ("error" in services) {
    throw new ConfigError(`executeRemotely() needs the services queue "${config.servicesQueue}" in the cluster config: ${services.error}`, { field: "servicesQueue" });
  }
  const jobDir = await remoteHome(transport, config.jobDir);
  const packageDir = await shipControllerPackage(transport, jobDir);
  const storeDir = posix.join(jobDir, "store");

  // The run as the cluster's controller sees it: same pipeline and drafts; sbatch runs locally there.
  const record = await store.getRun(runId);
  const { ssh: _ssh, ...onCluster } = config;
  const remoteRunDir = posix.join(storeDir, "runs", runId);
  await transport.exec(`mkdir -p ${shellQuote(remoteRunDir)}`, { idempotent: true });
  await transport.writeFile(posix.join(remoteRunDir, "run.json"), JSON.stringify({ ...record, mode: "slurm", clusterConfig: { ...onCluster, jobDir } }, null, 2));

  const attemptDir = await store.attemptDir(runId, "_controller", 1);
  const spec: JobSpec = {
    jobName: jobNameFor(runId, "_controller", 1),
    runId,
    step: "_controller",
    attempt: 1,
    queue: config.servicesQueue,
    resources: services.resources,
    argv: [config.node, posix.join(packageDir, "controller.mjs"), storeDir, runId],
    env: {},
    secretEnv: Object.fromEntries(config.requiredEnv.map((name) => [name, process.env[name] ?? ""])),
    attemptDir,
    priority: 0,
  };
  const [submitted] = await backend.submit([spec]);
  const info: RemoteRunInfo = { jobId: submitted!.backendJobId, storeDir, cluster: config };
  await atomicWrite(join(store.runDir(runId), REMOTE_RUN_FILE), JSON.stringify(info, null, 2));
  return info;
}

/** Copies the journal of a remote run into the local store; returns whether it changed. */
export async function mirrorRemoteJournal(store: Store, runId: string, info: RemoteRunInfo, transport: Transport): Promise<boolean> {
  const remote = await transport.readFile(posix.join(info.storeDir, "runs", runId, "journal.jsonl"));
  if (!remote) return false;
  const local = join(store.runDir(runId), "journal.jsonl");
  const before = await readFile(local).catch(() => Buffer.alloc(0));
  if (before.equals(remote.data)) return false;
  await atomicWrite(local, remote.data);
  return true;
}

/** Reads {@link RemoteRunInfo} of a run, or `undefined` for runs whose controller is not remote. */
export async function readRemoteRunInfo(store: Store, runId: string): Promise<RemoteRunInfo | undefined> {
  const text = await readFile(join(store.runDir(runId), REMOTE_RUN_FILE), "utf8").catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as RemoteRunInfo);
}

async function remoteHome(transport: Transport, dir: string): Promise<string> {
  if (dir !== "~" && !dir.startsWith("~/")) return dir;
  const home = (await transport.exec('printf %s "$HOME"', { idempotent: true })).stdout.trim();
  return home + dir.slice(1);
}

/** Ships controller.mjs, python/ and the bundled configs under a package.json; returns the directory. */
async function shipControllerPackage(transport: Transport, jobDir: string): Promise<string> {
  const { file, hash } = await bundleController();
  const dir = posix.join(jobDir, ".controller", hash);
  const present = await transport.exec(`test -f ${shellQuote(posix.join(dir, ".complete"))} && echo present || echo absent`, { idempotent: true });
  if (present.stdout.trim() === "present") return dir;
  const root = packageRoot();
  const files = new Map<string, Buffer | string>([
    ["package.json", JSON.stringify({ name: "gpu-dag", type: "module", private: true })],
    ["controller.mjs", await readFile(file)],
  ]);
  for (const sub of ["python", join("src", "tasks", "configs")]) {
    for (const path of await listFiles(join(root, sub))) files.set(relative(root, path).split("\\").join("/"), await readFile(path));
  }
  const dirs = new Set([...files.keys()].map((p) => posix.dirname(posix.join(dir, p))));
  await transport.exec(`mkdir -p ${[...dirs].map(shellQuote).join(" ")}`, { idempotent: true });
  for (const [path, data] of files) await transport.writeFile(posix.join(dir, path), data);
  await transport.writeFile(posix.join(dir, ".complete"), "");
  return dir;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === "__pycache__" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

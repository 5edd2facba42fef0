/**
 * `executeRemotely()` on Slurm: the run's controller becomes a job on the cluster's services
 * queue (CPU only). What it needs is shipped once per version to
 * `<jobDir>/.controller/<hash>/` — a one-file controller bundle, the job-side Python runtime and
 * the bundled task configs, under a minimal package.json — and the run record is copied into a
 * store on the cluster (`<jobDir>/store`). The controller then submits with sbatch on the node it
 * runs on. Secrets (`requiredEnv`) reach it through the backend's 0600 env file, never a script.
 *
 * The local store keeps `remote.json` (job id, remote store) so `status` / `wait` can follow the
 * run by mirroring its journal (append-only, `journal-mirror.ts`) while that job owns the run.
 *
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import { join, posix, relative } from "node:path";
import { shellQuote } from "../args/shell-quote.js";
import { type JobSpec, jobNameFor } from "../backends/queue-backend.js";
import type { SlurmBackend } from "../backends/slurm/slurm-backend.js";
import type { Transport } from "../backends/slurm/transport.js";
import type { SlurmClusterConfig } from "../config/cluster-config.js";
import { type ResolvedQueue, resolveQueue } from "../config/resolve-queue.js";
import { packageRoot } from "../package-root.js";
import type { Store } from "../store/store.js";
import { bundleController } from "./bundle-controller.js";
import { claimClusterRun } from "./controller-owner.js";
import { pushJournal } from "./journal-mirror.js";
import { controllerJobCount, type RemoteRunInfo, writeRemoteRunInfo } from "./remote-run-info.js";
import { assertServicesQueue } from "./services-queue.js";

export { mirrorRemoteJournal } from "./journal-mirror.js";
export { REMOTE_RUN_FILE, type RemoteRunInfo, readRemoteRunInfo } from "./remote-run-info.js";

/** Options of {@link startSlurmController}. */
export interface StartSlurmControllerOptions {
  /** Continue the run from its journal (the local journal is brought to the cluster first). */
  resume?: boolean;
  /** Steps the controller runs again even if they succeeded or are cached. */
  force?: readonly string[];
}

/**
 * Ships the controller and the run, claims the run in the cluster's store for the new controller
 * job, and submits it. The caller holds the local run lock and has made sure no controller drives
 * the run (see `takeOverFromControllerJob`).
 */
export async function startSlurmController(
  store: Store,
  runId: string,
  config: SlurmClusterConfig,
  backend: SlurmBackend,
  transport: Transport,
  options: StartSlurmControllerOptions = {},
): Promise<RemoteRunInfo> {
  const record = await store.getRun(runId);
  assertServicesQueue(config, `"${record.cluster.name}"`);
  const services = resolveQueue(config, config.servicesQueue) as ResolvedQueue;
  const jobDir = await remoteHome(transport, config.jobDir);
  const packageDir = await shipControllerPackage(transport, jobDir);
  const storeDir = posix.join(jobDir, "store");

  // The run as the cluster's controller sees it: same pipeline and drafts; sbatch runs locally there.
  const { ssh: _ssh, ...onCluster } = config;
  const remoteRunDir = posix.join(storeDir, "runs", runId);
  await transport.exec(`mkdir -p ${shellQuote(remoteRunDir)}`, { idempotent: true });
  await transport.writeFile(posix.join(remoteRunDir, "run.json"), JSON.stringify({ ...record, mode: "slurm", clusterConfig: { ...onCluster, jobDir } }, null, 2));
  // A resumed run may have entries of a local controller the cluster never saw (append-only).
  if (options.resume) await pushJournal(store, runId, { storeDir }, transport);

  // Each controller job of a run gets the next deterministic name, so a resubmission is visible
  // as such and a twin submission of the same one is caught by name (reuseExisting).
  const generation = (await controllerJobCount(store, runId)) + 1;
  const token = await claimClusterRun(transport, storeDir, runId, `controller job generation ${generation}`);
  const attemptDir = await store.attemptDir(runId, CONTROLLER_STEP, generation);
  const spec: JobSpec = {
    jobName: jobNameFor(runId, CONTROLLER_STEP, generation),
    runId,
    step: CONTROLLER_STEP,
    attempt: generation,
    queue: config.servicesQueue,
    resources: services.resources,
    argv: [
      config.node,
      posix.join(packageDir, "controller.mjs"),
      storeDir,
      runId,
      "--token",
      token,
      ...(options.resume ? ["--resume"] : []),
      ...(options.force ?? []).flatMap((step) => ["--force", step]),
    ],
    env: {},
    secretEnv: Object.fromEntries(config.requiredEnv.map((name) => [name, process.env[name] ?? ""])),
    attemptDir,
    priority: 0,
  };
  const [submitted] = await backend.submit([spec], { reuseExisting: true });
  const info: RemoteRunInfo = { jobId: submitted!.backendJobId, storeDir, cluster: config, clusterName: record.cluster.name, generation, token };
  await writeRemoteRunInfo(store, runId, info);
  return info;
}

/** The pseudo-step name of controller jobs (`gd-<run>-_controller-a<generation>`). */
export const CONTROLLER_STEP = "_controller";

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

/**
 * What the local store remembers of a run whose controller is a job on a cluster. `remote.json`
 * in the run directory exists exactly while a cluster-side controller owns the run: `status` /
 * `wait` mirror its journal, and no controller may start here. When a local controller takes the
 * run over (the controller job is dead), the file is retired to `remote-<jobId>.json`, a history
 * record that nothing mirrors from.
 *
 * @module
 */
import { readdir, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import type { SlurmClusterConfig } from "../config/cluster-config.js";
import { atomicWrite } from "../store/atomic-write.js";
import type { Store } from "../store/store.js";

/** A run's controller job on a cluster. */
export interface RemoteRunInfo {
  /** Slurm job id of the controller. */
  jobId: string;
  /** Store directory on the cluster. */
  storeDir: string;
  /** The cluster config (to reach the cluster again: ssh settings). */
  cluster: SlurmClusterConfig;
  /** The cluster's name as the run records it (for messages). */
  clusterName?: string;
  /** 1 for the first controller job of the run, 2 for the one a `resume --remote` submitted, … */
  generation?: number;
  /** Ownership token this controller job was started with (see `controller-owner.ts`). */
  token?: string;
}

/** Name of the file in the local run directory holding {@link RemoteRunInfo}. */
export const REMOTE_RUN_FILE = "remote.json";

/** Reads {@link RemoteRunInfo} of a run, or `undefined` when no cluster-side controller owns it. */
export async function readRemoteRunInfo(store: Store, runId: string): Promise<RemoteRunInfo | undefined> {
  const text = await readFile(join(store.runDir(runId), REMOTE_RUN_FILE), "utf8").catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as RemoteRunInfo);
}

/** Records that a cluster-side controller now owns the run. */
export async function writeRemoteRunInfo(store: Store, runId: string, info: RemoteRunInfo): Promise<void> {
  await atomicWrite(join(store.runDir(runId), REMOTE_RUN_FILE), JSON.stringify(info, null, 2));
}

/** The run is no longer remote: keeps the record as `remote-<jobId>.json` (history), mirrored no more. */
export async function retireRemoteRunInfo(store: Store, runId: string, info: RemoteRunInfo): Promise<void> {
  const dir = store.runDir(runId);
  await rename(join(dir, REMOTE_RUN_FILE), join(dir, `remote-${info.jobId}.json`)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
}

/** How many controller jobs the run has had (current and retired): the next one's generation is this + 1. */
export async function controllerJobCount(store: Store, runId: string): Promise<number> {
  const names = await readdir(store.runDir(runId)).catch(() => [] as string[]);
  const current = await readRemoteRunInfo(store, runId);
  const retired = names.filter((n) => /^remote-.+\.json$/.test(n)).length;
  return Math.max(retired + (current ? 1 : 0), current?.generation ?? 0);
}

/** Where the controller job is, for messages: `"name" (user@host:port)`. */
export function describeCluster(info: RemoteRunInfo): string {
  const ssh = info.cluster.ssh;
  const where = ssh ? `${ssh.user ? `${ssh.user}@` : ""}${ssh.host}${ssh.port !== undefined ? `:${ssh.port}` : ""}` : "its login node";
  return `${info.clusterName ? `"${info.clusterName}" ` : ""}(${where})`;
}

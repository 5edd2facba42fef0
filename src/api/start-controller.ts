/**
 * Starting a run's controller away from the calling process — the one path `executeRemotely()`,
 * `run --remote` and `resume --remote` share. On a Slurm cluster the controller becomes a job on
 * the services queue; on a local cluster it is a detached process here. Either way it starts only
 * when no controller drives the run: a live one (a process holding the run's lock, or a controller
 * job on the cluster) is refused with a `RunLockedError`, and a dead controller job's journal is
 * taken over first, so a second controller never starts.
 *
 * @module
 */
import { join } from "node:path";
import { ClusterConfigSchema } from "../config/cluster-config.js";
import { RunLockedError } from "../errors.js";
import { pythonRuntimeDir } from "../package-root.js";
import { takeOverFromControllerJob } from "../remote/controller-guard.js";
import { describeCluster } from "../remote/remote-run-info.js";
import { isStale, readLock } from "../store/run-lock.js";
import type { Store } from "../store/store.js";
import { startDetachedController } from "./detached-controller.js";

/** Options of {@link startRunController}. */
export interface StartControllerOptions {
  /** Store directory (the detached controller's `GPU_DAG_HOME`). */
  home: string;
  /** Continue from the journal. */
  resume?: boolean;
  /** Steps to run again even if they succeeded or are cached. */
  force?: readonly string[];
}

/** Where the controller went. */
export type StartedController = { kind: "cluster"; jobId: string; cluster: string } | { kind: "process"; pid: number; log: string };

/** Heartbeat age after which a local lock counts as stale (as the lock itself decides). */
const STALE_MS = 15_000;

/** See the module comment. */
export async function startRunController(store: Store, runId: string, options: StartControllerOptions): Promise<StartedController> {
  const record = await store.getRun(runId);
  const config = ClusterConfigSchema.parse(record.clusterConfig ?? { executor: "local" });
  const force = options.force?.length ? { force: options.force } : {};
  if (config.executor === "slurm") {
    // The lock keeps local controllers off while we check and submit; afterwards `remote.json`
    // keeps them off (driveRun refuses while the controller job lives).
    const lock = await store.lockRun(runId);
    try {
      await takeOverFromControllerJob(store, runId);
      const { SlurmBackend } = await import("../backends/slurm/slurm-backend.js");
      const { startSlurmController } = await import("../remote/slurm-controller.js");
      const backend = new SlurmBackend({ config, pythonRuntimeDir: pythonRuntimeDir() });
      try {
        const info = await startSlurmController(store, runId, config, backend, backend.transport, { ...(options.resume ? { resume: true } : {}), ...force });
        return { kind: "cluster", jobId: info.jobId, cluster: describeCluster(info) };
      } finally {
        await backend.close();
      }
    } finally {
      await lock.release();
    }
  }
  // The detached process takes the lock itself (and would only log a refusal): refuse here, where the caller sees it.
  const current = await readLock(join(store.runDir(runId), "lock.json"));
  if (current && !isStale(current, STALE_MS)) {
    throw new RunLockedError(runId, current.owner, `run ${runId} is being driven by the controller ${current.owner} (pid ${current.pid} on ${current.host}); use gpu-dag watch/cancel`);
  }
  const pid = startDetachedController(store, runId, { home: options.home, ...(options.resume ? { resume: true } : {}), ...force });
  return { kind: "process", pid, log: join(store.runDir(runId), "controller.log") };
}

/**
 * One controller per run when the run's controller may be a job on a cluster. Called with the
 * local store's run lock held, before a controller starts here (or submits a new controller job):
 * while the run's controller job is alive the run is refused — it is driven there; once that job
 * is dead its journal is final, so every entry it wrote is mirrored here, the cluster's run is
 * marked as owned by us (a controller job started again there then refuses to run), and the run
 * stops being remote (`remote.json` retired to history).
 *
 * @module
 */
import { shellQuote } from "../args/shell-quote.js";
import type { Transport } from "../backends/slurm/transport.js";
import { RunLockedError } from "../errors.js";
import type { Store } from "../store/store.js";
import { claimClusterRun, localOwner } from "./controller-owner.js";
import { mirrorRemoteJournal } from "./journal-mirror.js";
import { describeCluster, readRemoteRunInfo, retireRemoteRunInfo } from "./remote-run-info.js";

/** Controller job states in which it may still write the journal. */
export const ALIVE_JOB_STATES: ReadonlySet<string> = new Set([
  "PENDING",
  "CONFIGURING",
  "RUNNING",
  "COMPLETING",
  "SUSPENDED",
  "REQUEUED",
  "REQUEUE_HOLD",
  "REQUEUE_FED",
  "RESIZING",
  "SIGNALING",
  "STAGE_OUT",
]);

/** The Slurm state of a controller job (`""` once Slurm has forgotten it: it ended long ago). */
export async function controllerJobState(transport: Transport, jobId: string): Promise<string> {
  const result = await transport.exec(`squeue -h -t all -j ${shellQuote(jobId)} -o %T 2>/dev/null || true`, { idempotent: true });
  return result.stdout.trim().split("\n")[0] ?? "";
}

/** Loaded lazily: only runs with a controller on a cluster need SSH. */
async function clusterTransport(cluster: Parameters<typeof import("../backends/slurm/transport-for.js").transportFor>[0]): Promise<Transport> {
  const { transportFor } = await import("../backends/slurm/transport-for.js");
  return transportFor(cluster);
}

/**
 * See the module comment. A no-op for runs no controller job owns. Throws {@link RunLockedError}
 * while the controller job is alive, and an error when the two journals diverged (taking over
 * would lose the entries only the cluster's copy has).
 */
export async function takeOverFromControllerJob(store: Store, runId: string): Promise<void> {
  const info = await readRemoteRunInfo(store, runId);
  if (!info) return;
  const transport = await clusterTransport(info.cluster);
  try {
    const state = await controllerJobState(transport, info.jobId);
    if (ALIVE_JOB_STATES.has(state)) {
      throw new RunLockedError(
        runId,
        `controller job ${info.jobId}`,
        `run ${runId} is being driven by controller job ${info.jobId} on cluster ${describeCluster(info)} (${state}); use gpu-dag watch/cancel`,
      );
    }
    const mirrored = await mirrorRemoteJournal(store, runId, info, transport);
    if (mirrored.kind === "diverged") {
      throw new Error(`run ${runId}: the local journal and the cluster's (${info.storeDir}) diverged — ${mirrored.detail}; not taking the run over, as entries would be lost`);
    }
    await claimClusterRun(transport, info.storeDir, runId, localOwner(store.location));
    await retireRemoteRunInfo(store, runId, info);
  } finally {
    await transport.close();
  }
}

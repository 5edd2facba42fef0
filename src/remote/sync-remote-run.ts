/**
 * Following a run whose controller is a job on a cluster: while that job owns the run
 * (`remote.json`), the entries of its journal the local copy lacks are appended here, and the
 * controller counts as alive while its Slurm job is pending or running. A local journal with
 * newer or different entries is never overwritten (see `journal-mirror.ts`); the result says so.
 *
 * @module
 */
import type { Store } from "../store/store.js";
import { ALIVE_JOB_STATES, controllerJobState } from "./controller-guard.js";
import { mirrorRemoteJournal } from "./journal-mirror.js";
import { readRemoteRunInfo } from "./remote-run-info.js";

/** What {@link syncRemoteRun} found. */
export interface RemoteSync {
  /** The controller job is pending or running. */
  alive: boolean;
  /** Its Slurm state (`""` when Slurm no longer knows it). */
  state: string;
  /** The controller job's id. */
  jobId: string;
  /** Set when the journals disagree and nothing was copied: why. */
  warning?: string;
}

/**
 * Mirrors the journal of a run with a cluster-side controller. Returns `undefined` for runs no
 * controller job owns, else the controller job's liveness.
 */
export async function syncRemoteRun(store: Store, runId: string): Promise<RemoteSync | undefined> {
  const info = await readRemoteRunInfo(store, runId);
  if (!info) return undefined;
  // Loaded lazily: only runs with a controller on a cluster need SSH.
  const { transportFor } = await import("../backends/slurm/transport-for.js");
  const transport = transportFor(info.cluster);
  try {
    const mirrored = await mirrorRemoteJournal(store, runId, info, transport);
    const state = await controllerJobState(transport, info.jobId);
    const warning =
      mirrored.kind === "diverged"
        ? `the local journal and the cluster's diverged (${mirrored.detail}); the local one was kept, nothing was copied`
        : mirrored.kind === "local-ahead"
          ? "the local journal has entries the cluster's lacks; the local one was kept"
          : undefined;
    return { alive: ALIVE_JOB_STATES.has(state), state, jobId: info.jobId, ...(warning ? { warning } : {}) };
  } finally {
    await transport.close();
  }
}

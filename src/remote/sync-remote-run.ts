/**
 * Following a run whose controller is a job on a cluster: its journal is copied into the local
 * store, and the controller counts as alive while its Slurm job is pending or running.
 *
 * @module
 */
import { shellQuote } from "../args/shell-quote.js";
import type { Store } from "../store/store.js";
import { mirrorRemoteJournal, readRemoteRunInfo } from "./slurm-controller.js";

/** Controller job states in which it may still write the journal. */
const ALIVE = new Set(["PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING"]);

/**
 * Mirrors the journal of a run with a cluster-side controller. Returns `undefined` for runs whose
 * controller is not on a cluster, else whether that controller's job is still alive.
 */
export async function syncRemoteRun(store: Store, runId: string): Promise<{ alive: boolean } | undefined> {
  const info = await readRemoteRunInfo(store, runId);
  if (!info) return undefined;
  // Loaded lazily: only runs with a controller on a cluster need SSH.
  const { transportFor } = await import("../backends/slurm/transport-for.js");
  const transport = transportFor(info.cluster);
  try {
    await mirrorRemoteJournal(store, runId, info, transport);
    const state = await transport.exec(`squeue -h -t all -j ${shellQuote(info.jobId)} -o %T 2>/dev/null || true`, { idempotent: true });
    return { alive: ALIVE.has(state.stdout.trim().split("\n")[0] ?? "") };
  } finally {
    await transport.close();
  }
}

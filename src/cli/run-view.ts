/**
 * A run as the read commands show it: the journal's state, step counts, and whether a live
 * controller holds it (a `running` run without one was interrupted and needs `resume`).
 *
 * @module
 */
import { join } from "node:path";
import { readRun, resultOf, type StoredRun } from "../api/run-status.js";
import { syncRemoteRun } from "../remote/sync-remote-run.js";
import type { StepStatus } from "../runner/run-types.js";
import { isStale, readLock } from "../store/run-lock.js";
import type { Store } from "../store/store.js";
import { CliUsageError } from "./cli-error.js";

/** How long a lock's heartbeat may be silent before its controller counts as gone. */
const STALE_MS = 15_000;
/** A run created this recently with an empty journal is still starting (its controller is coming up). */
const STARTING_MS = 30_000;

/**
 * The run's state for display: the journal's status, except that a `running` run is `starting`
 * (just created, no controller yet) or `interrupted` (no live controller: resume it).
 */
export type RunDisplayState = "succeeded" | "failed" | "cancelled" | "running" | "starting" | "interrupted";

/** Step counts by state. */
export interface StepCounts {
  total: number;
  /** Succeeded or cached. */
  done: number;
  running: number;
  queued: number;
  pending: number;
  failed: number;
  skipped: number;
  cancelled: number;
}

/** See the module comment. */
export interface RunView {
  stored: StoredRun;
  result: ReturnType<typeof resultOf>;
  state: RunDisplayState;
  counts: StepCounts;
  /** The live controller, when one holds the run's lock. */
  controller?: { owner: string; host: string; pid: number; heartbeatAt: number };
  /** The controller job on a cluster, while one owns the run (its journal is mirrored here). */
  remoteController?: { jobId: string; state: string; alive: boolean; warning?: string };
  /** Wall-clock duration so far (to the end when finished). */
  durationMs: number;
}

/** Loads run `runId` (throws `RunNotFoundError`). */
export async function loadRunView(store: Store, runId: string): Promise<RunView> {
  // A controller running as a cluster job writes its journal there: mirror it first.
  const remote = await syncRemoteRun(store, runId);
  const stored = await readRun(store, runId);
  const result = resultOf(store, stored);
  if (result.status === "cancelled" || (result.status === "failed" && stored.replay.reason !== undefined)) {
    // The controller cancels steps that never started without journaling each one (on a cancel,
    // or when the run failed as a whole): show them so.
    for (const step of Object.values(result.steps)) {
      if (step.status === "pending") {
        step.status = "cancelled";
        step.reason ??= result.status === "cancelled" ? "run was cancelled before the step started" : "not started: the run failed (see its reason)";
      }
    }
  }
  const lock = await readLock(join(store.runDir(runId), "lock.json"));
  const live = remote ? remote.alive : lock !== undefined && !isStale(lock, STALE_MS);
  // Only a controller job owns a remote run: a lock here is at most a resume being refused.
  const localLive = !remote && live;
  let state: RunDisplayState = result.status;
  if (result.status === "running" && !live) {
    const fresh = stored.replay.controllerStarts === 0 && Date.now() - Date.parse(stored.record.createdAt) < STARTING_MS;
    state = fresh ? "starting" : "interrupted";
  }
  const counts = countSteps(Object.values(result.steps).map((s) => s.status));
  const startedAt = stored.replay.startedAt ?? Date.parse(stored.record.createdAt);
  const endedAt = stored.replay.endedAt ?? Date.now();
  return {
    stored,
    result,
    state,
    counts,
    ...(localLive && lock ? { controller: { owner: lock.owner, host: lock.host, pid: lock.pid, heartbeatAt: lock.heartbeatAt } } : {}),
    ...(remote ? { remoteController: { jobId: remote.jobId, state: remote.state, alive: remote.alive, ...(remote.warning ? { warning: remote.warning } : {}) } } : {}),
    durationMs: endedAt - startedAt,
  };
}

/** Counts steps by state. */
export function countSteps(states: readonly StepStatus[]): StepCounts {
  const counts: StepCounts = { total: states.length, done: 0, running: 0, queued: 0, pending: 0, failed: 0, skipped: 0, cancelled: 0 };
  for (const s of states) {
    if (s === "succeeded" || s === "cached") counts.done += 1;
    else counts[s] += 1;
  }
  return counts;
}

/** Throws a usage error naming the run's steps when `step` is not one of them. */
export function assertStep(view: Pick<RunView, "stored">, step: string): void {
  if (!view.stored.stepNames.includes(step)) {
    throw new CliUsageError(`run "${view.stored.record.id}" has no step "${step}" (steps: ${view.stored.stepNames.join(", ")})`);
  }
}

/** True for the states a run never leaves on its own. */
export function isFinished(state: RunDisplayState): state is "succeeded" | "failed" | "cancelled" {
  return state === "succeeded" || state === "failed" || state === "cancelled";
}

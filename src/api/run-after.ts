/**
 * Run after: a run whose record names other runs (`runAfter`, resolved to run ids when the run is
 * created) starts its steps only once every one of them has succeeded — NeMo-Skills'
 * `--run_after`, from any process or machine that shares the store. The controller waits: it
 * reads each predecessor's journal (mirroring it first when a controller job on a cluster owns
 * it) until the run has finished.
 *
 * While it waits the run holds its lock (its controller is live) and its journal says why, as a
 * `backend-notice` of kind `run-after` (`status` shows it). A predecessor that fails or is
 * cancelled ends the waiting run as failed, with the reason; an abort while waiting ends it as
 * cancelled. Nothing is submitted before the wait is over.
 *
 * Not done here: the Slurm-dependency form (`--dependency=afterok` on the predecessor's jobs when
 * both runs' jobs are on one cluster) and a single step waiting for a run.
 *
 * @module
 */
import { join } from "node:path";
import { RunNotFoundError } from "../errors.js";
import { syncRemoteRun } from "../remote/sync-remote-run.js";
import { resolveRun } from "../results/refs.js";
import { runSummaries } from "../results/run-summaries.js";
import { isStale, readLock } from "../store/run-lock.js";
import { isFinalStatus, summarizeRun } from "../store/run-summary.js";
import type { Store } from "../store/store.js";

/** How long a lock's heartbeat may be silent before its controller counts as gone. */
const STALE_MS = 15_000;

/** The run ids `refs` (ids, unique id prefixes or names) name now; throws `RunNotFoundError` / `RefError` naming the ref. */
export async function resolveRunAfter(store: Store, refs: readonly string[]): Promise<string[]> {
  if (refs.length === 0) return [];
  const summaries = await runSummaries(store);
  return [...new Set(refs.map((ref) => resolveRun(summaries, ref).id))];
}

/** How the wait ended. */
export type RunAfterOutcome = { kind: "ready" } | { kind: "failed"; reason: string } | { kind: "cancelled"; reason: string };

/** Options of {@link waitForRuns}. */
export interface WaitForRunsOptions {
  signal?: AbortSignal;
  /** Time between looks at the predecessors (default 500 ms). */
  pollMs?: number;
  /** Hears each change of what the run waits for (also journaled). */
  onWaiting?: (message: string) => void;
}

/** Waits until every run of `predecessors` succeeded (see the module comment); journals why it waits. */
export async function waitForRuns(store: Store, runId: string, predecessors: readonly string[], options: WaitForRunsOptions = {}): Promise<RunAfterOutcome> {
  const pollMs = options.pollMs ?? 500;
  let said = "";
  const say = async (message: string) => {
    if (message === said) return;
    said = message;
    options.onWaiting?.(message);
    await store.appendJournal(runId, { type: "backend-notice", at: Date.now(), kind: "run-after", message });
  };
  for (;;) {
    const waiting: string[] = [];
    for (const id of predecessors) {
      const state = await predecessorState(store, id);
      if (state.status === "succeeded") continue;
      if (state.status === "failed" || state.status === "cancelled" || state.status === "missing") {
        const reason = `run after ${describe(id, state.name)}: it ${state.status === "missing" ? "is not in this store" : state.status}${state.reason ? ` (${state.reason})` : ""}; no step of this run was started`;
        await say(reason);
        return { kind: "failed", reason };
      }
      waiting.push(`${describe(id, state.name)} (${state.status})`);
    }
    if (waiting.length === 0) {
      if (said) await say(`run after: ${predecessors.map((id) => describe(id)).join(", ")} succeeded; steps start`);
      return { kind: "ready" };
    }
    await say(`waiting for run${waiting.length > 1 ? "s" : ""} ${waiting.join(", ")} to succeed`);
    if (await sleep(pollMs, options.signal)) return { kind: "cancelled", reason: `cancelled while waiting for ${waiting.join(", ")}` };
  }
}

interface PredecessorState {
  status: "created" | "running" | "interrupted" | "succeeded" | "failed" | "cancelled" | "missing";
  name?: string;
  reason?: string;
}

async function predecessorState(store: Store, id: string): Promise<PredecessorState> {
  // A run driven by a controller job on a cluster: bring its journal here first.
  const remote = await syncRemoteRun(store, id).catch(() => undefined);
  let summary: ReturnType<typeof summarizeRun>;
  try {
    summary = summarizeRun(await store.getRun(id), await store.readJournal(id));
  } catch (error) {
    if (error instanceof RunNotFoundError) return { status: "missing" };
    throw error;
  }
  const name = summary.name;
  if (isFinalStatus(summary.status)) return { status: summary.status as PredecessorState["status"], ...(name ? { name } : {}), ...(summary.reason ? { reason: summary.reason } : {}) };
  const lock = remote ? undefined : await readLock(join(store.runDir(id), "lock.json"));
  const live = remote ? remote.alive : lock !== undefined && !isStale(lock, STALE_MS);
  // Still running, or no controller drives it (it waits for a resume): keep waiting either way.
  return { status: summary.status === "running" && !live ? "interrupted" : summary.status, ...(name ? { name } : {}) };
}

function describe(id: string, name?: string): string {
  return name ? `${id} (${name})` : id;
}

/** Sleeps `ms`; resolves true when `signal` aborted first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

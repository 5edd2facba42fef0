/**
 * One trial: its child run — created under the trial's deterministic run id if it does not exist
 * yet, resumed from its own journal if it does, read back if it already ended — driven here with
 * `driveRun()` (the study's backend and coordinated step cache), and what it gave: the objective,
 * or why there is none.
 *
 * @module
 */
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { type CreateRunOptions, createRun } from "../api/create-run.js";
import { driveRun } from "../api/drive-run.js";
import { Pipeline } from "../api/pipeline.js";
import { readRun, resultOf } from "../api/run-status.js";
import type { QueueBackend } from "../backends/queue-backend.js";
import { RunNotFoundError, StoreError } from "../errors.js";
import type { RunEventListener, RunResult } from "../runner/run-types.js";
import type { Store } from "../store/store.js";
import type { CacheCoordinator } from "./cache-coordinator.js";
import { evaluateObjective, type ObjectiveNode } from "./objective.js";
import type { StudyRecord } from "./study-files.js";
import type { TrialAsked } from "./study-journal.js";

/** What a trial needs from its study. */
export interface TrialContext {
  record: StudyRecord;
  objective: ObjectiveNode;
  store: Store;
  home: string;
  coordinator: CacheCoordinator;
  backend: QueueBackend;
  signal: AbortSignal;
  retryBackoffMs?: number;
  onEvent?: RunEventListener;
}

/** How a trial ended: told (a result for the journal), or interrupted (the study was stopped: resume goes on with it). */
export type TrialOutcome = { told: true; status: "succeeded" | "failed"; objective?: number; reason?: string; durationMs?: number } | { told: false };

/** The `${pipeline.x}` values of a trial's run: fixed ones, the searched ones, and a halving rung's budget. */
export function trialParameters(record: StudyRecord, asked: TrialAsked): Record<string, string | number | boolean> {
  const halving = record.spec.halving;
  return { ...record.spec.fixed, ...asked.params, ...(halving && asked.budget !== undefined ? { [halving.parameter]: asked.budget } : {}) };
}

/** Runs (or resumes, or reads back) the trial's run; see the module comment. */
export async function runTrial(ctx: TrialContext, asked: TrialAsked): Promise<TrialOutcome> {
  const { store, coordinator } = ctx;
  // Its own signal, linked to the study's while it runs: a run leaves its abort listener on the
  // signal it was given, and a study of many trials must not pile them up on one.
  const stop = new AbortController();
  const onStop = () => stop.abort();
  ctx.signal.addEventListener("abort", onStop, { once: true });
  if (ctx.signal.aborted) stop.abort();
  let result: RunResult;
  try {
    const existing = await ensureRun(ctx, asked);
    if (existing && existing.status !== "running" && existing.status !== "cancelled") {
      result = existing as RunResult; // it ended before the study controller saw it end
    } else {
      if (existing) await coordinator.adopt(asked.runId, await store.readJournal(asked.runId));
      result = await driveRun(asked.runId, {
        store: coordinator.storeFor(asked.runId),
        home: ctx.home,
        backend: ctx.backend,
        signal: stop.signal,
        ...(existing ? { resume: true } : {}),
        ...(ctx.retryBackoffMs !== undefined ? { retryBackoffMs: ctx.retryBackoffMs } : {}),
        ...(ctx.onEvent ? { onEvent: ctx.onEvent } : {}),
      });
    }
  } catch (error) {
    if (ctx.signal.aborted) return { told: false };
    return { told: true, status: "failed", reason: `run ${asked.runId}: ${(error as Error).message}` };
  } finally {
    ctx.signal.removeEventListener("abort", onStop);
    coordinator.releaseRun(asked.runId);
  }
  if (ctx.signal.aborted && result.status === "cancelled") return { told: false };
  const durationMs = Math.max(0, result.endedAt - result.startedAt);
  if (result.status !== "succeeded") return { told: true, status: "failed", reason: failureOf(result), durationMs };
  const value = evaluateObjective(ctx.objective, result.metrics);
  return value.ok ? { told: true, status: "succeeded", objective: value.value, durationMs } : { told: true, status: "failed", reason: value.reason, durationMs };
}

/** Creates the trial's run unless it exists; returns the existing run's result as its journal tells it. */
async function ensureRun(ctx: TrialContext, asked: TrialAsked): Promise<ReturnType<typeof resultOf> | undefined> {
  const { store, record } = ctx;
  try {
    return resultOf(store, await readRun(store, asked.runId));
  } catch (error) {
    if (!(error instanceof RunNotFoundError)) throw error;
  }
  const create = () =>
    createRun(Pipeline.fromSpec(record.pipeline, `study ${record.id} pipeline`), {
      store,
      home: ctx.home,
      runId: asked.runId,
      mode: "local",
      parameters: trialParameters(record, asked),
      ...(record.cluster !== undefined ? { cluster: record.cluster as NonNullable<CreateRunOptions["cluster"]> } : {}),
      ...(record.runtime ? { runtime: record.runtime } : {}),
    });
  try {
    await create();
  } catch (error) {
    // A crash inside createRun can leave the run's directory without its run.json: nothing of the
    // run was recorded, so it is made again (never when run.json exists: that is a real run).
    const dir = store.runDir(asked.runId);
    if (!(error instanceof StoreError) || (await stat(join(dir, "run.json")).catch(() => undefined))) throw error;
    await rm(dir, { recursive: true, force: true });
    await create();
  }
  return undefined;
}

/** Why a trial's run did not succeed, in one line. */
function failureOf(result: RunResult): string {
  if (result.reason) return `run ${result.status}: ${result.reason}`;
  const failed = Object.values(result.steps).find((s) => s.status === "failed" || s.status === "cancelled");
  // One line: the reason's lines (e.g. an exit code, then the job's stderr tail) joined.
  const why = failed?.reason
    ?.trim()
    .replace(/\s*\n\s*/g, " | ")
    .slice(0, 500);
  return failed ? `run ${result.status}: step "${failed.name}" ${failed.status}${why ? `: ${why}` : ""}` : `run ${result.status}`;
}

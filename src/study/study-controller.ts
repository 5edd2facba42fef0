/**
 * The study controller: one process drives every trial's run itself (no controller job per
 * trial), up to `concurrency` at once, through one backend — so trials share the machine-wide GPU
 * leases or the Slurm queues like any runs — and one coordinated step cache. Every decision is
 * journaled (fsynced) before it is acted on:
 *
 * 1. take the study's lock; replay its journal; journal `study-started`;
 * 2. resume every trial asked and not told (its run resumes from its own journal: finished steps
 *    are kept, running jobs adopted; a run that ended while nobody watched is read back);
 * 3. ask what the proposer says is ready (`trial-asked`, then the run is created and driven);
 * 4. tell each result (`trial-told`): a failure, or a run without the objective, is recorded with
 *    its reason and the study goes on (`onTrialFailure`: fail, impute the worst, or retry);
 * 5. journal `study-finished` when nothing is left to ask or wait for.
 *
 * Aborting (`signal`, Ctrl-C) cancels the running trials' runs and ends the study `cancelled`;
 * their trials stay untold, so `study resume` continues them.
 *
 * @module
 */
import type { QueueBackend } from "../backends/queue-backend.js";
import { ConfigError, RunLockedError } from "../errors.js";
import { acquireRunLock } from "../store/run-lock.js";
import type { Store } from "../store/store.js";
import { CacheCoordinator } from "./cache-coordinator.js";
import { budgetOf, parseObjectiveOf, samplerOf } from "./check-study.js";
import { type Proposal, propose, ranked } from "./proposer.js";
import { runTrial, type TrialContext, type TrialOutcome } from "./run-trial.js";
import { configurations } from "./space.js";
import { studyBackend } from "./study-backend.js";
import { type StudyEventListener, trialRunId } from "./study-events.js";
import { openStudyJournal, readStudyJournal, readStudyRecord, studyDir } from "./study-files.js";
import { replayStudy, type StudyState, type TrialAsked, type TrialTold } from "./study-journal.js";

/** Options of {@link driveStudy}. */
export interface DriveStudyOptions {
  /** The store the trials' runs are recorded in: a file store at `home`. */
  store: Store;
  /** The store's directory (studies live in `<home>/studies`). */
  home: string;
  /** Continue from the journal (required once the study has started). */
  resume?: boolean;
  signal?: AbortSignal;
  onEvent?: StudyEventListener;
  /** Use this backend for every trial instead of the study's cluster config's. Not closed here. */
  backend?: QueueBackend;
  /** Base delay of the trials' step retries, ms. */
  retryBackoffMs?: number;
}

/** Drives study `studyId` until nothing is left to ask or wait for; resolves with its end state. */
export async function driveStudy(studyId: string, options: DriveStudyOptions): Promise<StudyState> {
  const { home, store } = options;
  const record = await readStudyRecord(home, studyId);
  const lock = await acquireRunLock(studyDir(home, studyId), studyId).catch((error: unknown) => {
    if (error instanceof RunLockedError) throw new RunLockedError(studyId, error.owner, `study "${studyId}" is driven by another controller (${error.owner})`);
    throw error;
  });
  const journal = openStudyJournal(home, studyId);
  let backend: QueueBackend | undefined;
  try {
    const state = replayStudy(await readStudyJournal(home, studyId));
    if (state.starts > 0 && !options.resume) throw new ConfigError(`study "${studyId}" has already started: resume it (\`gpu-dag study resume ${studyId}\`)`, { field: "study" });
    if (state.finished && state.finished.status !== "cancelled") return state;
    const spec = record.spec;
    const objective = parseObjectiveOf(spec, `study ${studyId}`);
    const points = configurations(spec, samplerOf(spec), budgetOf(spec));
    await journal.append({ type: "study-started", at: Date.now(), controller: `pid ${process.pid}` });
    state.starts += 1;
    delete state.finished;
    backend = options.backend ?? (await studyBackend(record, home));

    const stop = new AbortController();
    const onAbort = () => stop.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    lock.lost.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) stop.abort();
    const emit: StudyEventListener = (event) => {
      try {
        options.onEvent?.(event);
      } catch {
        // a listener's throw must not break the study
      }
    };
    const ctx: TrialContext = {
      record,
      objective,
      store,
      home,
      coordinator: new CacheCoordinator(store),
      backend,
      signal: stop.signal,
      ...(options.retryBackoffMs !== undefined ? { retryBackoffMs: options.retryBackoffMs } : {}),
    };
    const running = new Map<number, Promise<void>>();

    const ask = async (asked: TrialAsked, resumed: boolean): Promise<void> => {
      if (!resumed) await journal.append(asked);
      state.trials.set(asked.trial, { trial: asked.trial, asked });
      emit({ type: "trial:asked", studyId, asked, resumed });
      const trialCtx = { ...ctx, onEvent: (event: Parameters<NonNullable<TrialContext["onEvent"]>>[0]) => emit({ type: "trial:run", studyId, trial: asked.trial, event }) };
      const tracked: Promise<void> = runTrial(trialCtx, asked)
        .then((outcome) => settle(asked, outcome))
        .finally(() => {
          // A retry put its own promise in the trial's place.
          if (running.get(asked.trial) === tracked) running.delete(asked.trial);
        });
      running.set(asked.trial, tracked);
    };

    const settle = async (asked: TrialAsked, outcome: TrialOutcome): Promise<void> => {
      if (!outcome.told) return;
      if (outcome.status === "failed" && spec.onTrialFailure === "retry" && asked.attempt <= spec.retries && !stop.signal.aborted) {
        const again: TrialAsked = { ...asked, at: Date.now(), attempt: asked.attempt + 1, runId: trialRunId(studyId, asked.trial, asked.attempt + 1) };
        await ask(again, false);
        return;
      }
      const told: TrialTold = {
        type: "trial-told",
        at: Date.now(),
        trial: asked.trial,
        runId: asked.runId,
        status: outcome.status,
        ...(outcome.objective !== undefined ? { objective: outcome.objective } : {}),
        ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
        ...(outcome.durationMs !== undefined ? { durationMs: outcome.durationMs } : {}),
        ...(outcome.status === "failed" && spec.onTrialFailure === "worst" ? imputedWorst(state, asked.rung, spec.objective.goal) : {}),
      };
      await journal.append(told);
      state.trials.get(asked.trial)!.told = told;
      emit({ type: "trial:told", studyId, told });
    };

    for (const trial of [...state.trials.values()]) if (!trial.told) await ask(trial.asked, true);
    for (;;) {
      if (!stop.signal.aborted) {
        const { ready } = propose(spec, points, state.trials);
        for (const proposal of ready.slice(0, Math.max(0, spec.concurrency - running.size))) await ask(askedOf(studyId, proposal), false);
      }
      if (running.size === 0) break;
      // A failed journal write (the store is gone) rejects here: the study stops with it.
      await Promise.race(running.values()).catch(async (error: unknown) => {
        stop.abort();
        await Promise.allSettled(running.values());
        throw error;
      });
    }
    const told = [...state.trials.values()].filter((t) => t.told?.status === "succeeded");
    const status: "succeeded" | "failed" | "cancelled" = stop.signal.aborted ? "cancelled" : told.length > 0 ? "succeeded" : "failed";
    const finished = { type: "study-finished" as const, at: Date.now(), status, ...(status === "failed" ? { reason: "no trial reported the objective" } : {}) };
    await journal.append(finished);
    state.finished = finished;
    emit({ type: "study:complete", studyId, status, at: finished.at });
    options.signal?.removeEventListener("abort", onAbort);
    return state;
  } finally {
    await journal.close();
    if (backend && !options.backend) await backend.close();
    await lock.release();
  }
}

function askedOf(studyId: string, p: Proposal): TrialAsked {
  return {
    type: "trial-asked",
    at: Date.now(),
    trial: p.trial,
    attempt: 1,
    runId: trialRunId(studyId, p.trial, 1),
    params: p.params,
    rung: p.rung,
    ...(p.budget !== undefined ? { budget: p.budget } : {}),
    ...(p.promotedFrom !== undefined ? { promotedFrom: p.promotedFrom } : {}),
  };
}

/** `onTrialFailure: worst`: the worst objective measured so far (on the same rung), when there is one. */
function imputedWorst(state: StudyState, rung: number, goal: "maximize" | "minimize"): { objective?: number; imputed?: true } {
  const measured = ranked(
    [...state.trials.values()].filter((t) => t.asked.rung === rung && !t.told?.imputed),
    { expression: "", goal },
  );
  const worst = measured.at(-1)?.told?.objective;
  return worst === undefined ? {} : { objective: worst, imputed: true };
}

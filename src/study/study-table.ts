/**
 * A study's trials as rows — parameters, status, objective, duration, run id — sorted best first,
 * and its best trial. Pure: made from the journal's state alone.
 *
 * Sorted: trials with a measured objective first (halving: higher rungs first, since a rung's
 * budget makes its scores comparable only with each other), best objective first; then failed
 * trials with an imputed value, other failed ones, and unfinished ones, each by trial number.
 *
 * @module
 */
import { ranked } from "./proposer.js";
import type { TrialParams } from "./space.js";
import type { StudyState } from "./study-journal.js";
import type { StudySpec } from "./study-spec.js";

/** One trial of a study. */
export interface TrialRow {
  trial: number;
  /** Its run (the latest, after retries): `gpu-dag status <runId>`, `compare`, `report recovery`. */
  runId: string;
  attempt: number;
  rung: number;
  /** Halving: the rung parameter's value. */
  budget?: string | number | boolean;
  promotedFrom?: number;
  params: TrialParams;
  /** `running`: asked, not told yet (`interrupted` when no controller drives the study). */
  status: "running" | "interrupted" | "succeeded" | "failed";
  objective?: number;
  /** The objective was imputed (`onTrialFailure: worst`). */
  imputed?: boolean;
  reason?: string;
  durationMs?: number;
}

/** Every trial, in trial order. `live`: a controller drives the study now. */
export function trialRows(state: StudyState, live: boolean): TrialRow[] {
  return [...state.trials.values()]
    .sort((a, b) => a.trial - b.trial)
    .map(({ asked, told }) => ({
      trial: asked.trial,
      runId: asked.runId,
      attempt: asked.attempt,
      rung: asked.rung,
      ...(asked.budget !== undefined ? { budget: asked.budget } : {}),
      ...(asked.promotedFrom !== undefined ? { promotedFrom: asked.promotedFrom } : {}),
      params: asked.params,
      status: told ? told.status : live ? "running" : "interrupted",
      ...(told?.objective !== undefined ? { objective: told.objective } : {}),
      ...(told?.imputed ? { imputed: true } : {}),
      ...(told?.reason !== undefined ? { reason: told.reason } : {}),
      ...(told?.durationMs !== undefined ? { durationMs: told.durationMs } : {}),
    }));
}

/** The rows sorted as the module comment says. */
export function sortRows(rows: readonly TrialRow[], spec: Pick<StudySpec, "objective" | "method">): TrialRow[] {
  const sign = spec.objective.goal === "maximize" ? -1 : 1;
  const group = (r: TrialRow) => (r.status === "succeeded" && r.objective !== undefined ? 0 : r.status === "failed" && r.objective !== undefined ? 1 : r.status === "failed" ? 2 : 3);
  return [...rows].sort(
    (a, b) => group(a) - group(b) || (spec.method === "halving" && group(a) === 0 ? b.rung - a.rung : 0) || (group(a) <= 1 ? sign * (a.objective! - b.objective!) : 0) || a.trial - b.trial,
  );
}

/** The best trial with a measured objective (halving: on the highest rung that has one), if any. */
export function bestTrial(state: StudyState, spec: Pick<StudySpec, "objective" | "method">, live = false): TrialRow | undefined {
  let candidates = ranked(state.trials.values(), spec.objective);
  if (spec.method === "halving" && candidates.length > 0) {
    const top = Math.max(...candidates.map((t) => t.asked.rung));
    candidates = candidates.filter((t) => t.asked.rung === top);
  }
  const best = candidates[0];
  return best ? trialRows({ ...state, trials: new Map([[best.trial, best]]) }, live)[0] : undefined;
}

/**
 * What a study asks next, from its state alone (so a resumed controller asks exactly what an
 * uninterrupted one would):
 *
 * - `grid` / `random`: trial `n` is configuration `n` of the list `space.ts` made; every trial not
 *   yet asked is ready.
 * - `halving` (synchronous successive halving): rung 0 holds the first `trials` configurations at
 *   the first rung budget; once every trial of rung `r` is told, the best `max(1, ⌊size/η⌋)`
 *   successful ones (by the objective, ties to the earlier trial) are asked again on rung `r+1`
 *   with its budget. Trial numbers run on across rungs (rung 0: 0…8, rung 1: 9…11, …).
 *
 * @module
 */
import type { TrialParams } from "./space.js";
import type { TrialState } from "./study-journal.js";
import type { ObjectiveSpec, StudySpec } from "./study-spec.js";

/** A trial to ask. */
export interface Proposal {
  trial: number;
  params: TrialParams;
  rung: number;
  /** Halving: the rung parameter's value. */
  budget?: string | number | boolean;
  promotedFrom?: number;
}

/** The trials to ask now (in order), and whether the study has nothing left to ask or wait for. */
export interface Proposals {
  ready: Proposal[];
  done: boolean;
}

/** See the module comment. `trials` is the journal's (see `replayStudy`). */
export function propose(spec: StudySpec, configurations: readonly TrialParams[], trials: ReadonlyMap<number, TrialState>): Proposals {
  if (spec.method !== "halving") {
    const ready = configurations.flatMap((params, trial) => (trials.has(trial) ? [] : [{ trial, params, rung: 0 }]));
    return { ready, done: ready.length === 0 && [...trials.values()].every((t) => t.told) };
  }
  const { rungs, eta } = spec.halving!;
  let members: Array<{ params: TrialParams; promotedFrom?: number }> = configurations.map((params) => ({ params }));
  let base = 0;
  for (let rung = 0; rung < rungs.length; rung++) {
    const ready = members.flatMap((m, i) =>
      trials.has(base + i) ? [] : [{ trial: base + i, params: m.params, rung, budget: rungs[rung]!, ...(m.promotedFrom !== undefined ? { promotedFrom: m.promotedFrom } : {}) }],
    );
    const inRung = members.map((_, i) => trials.get(base + i)).filter((t): t is TrialState => t !== undefined);
    if (ready.length > 0) return { ready, done: false };
    if (inRung.some((t) => !t.told)) return { ready: [], done: false };
    if (rung === rungs.length - 1) break;
    const keep = Math.max(1, Math.floor(members.length / eta));
    members = ranked(inRung, spec.objective)
      .slice(0, keep)
      .map((t) => ({ params: t.asked.params, promotedFrom: t.trial }));
    if (members.length === 0) break;
    base += inRung.length;
  }
  return { ready: [], done: true };
}

/** Trials with a measured objective, best first (ties to the earlier trial). Imputed values never rank. */
export function ranked(trials: Iterable<TrialState>, objective: ObjectiveSpec): TrialState[] {
  const sign = objective.goal === "maximize" ? -1 : 1;
  return [...trials].filter((t) => t.told?.status === "succeeded" && t.told.objective !== undefined).sort((a, b) => sign * (a.told!.objective! - b.told!.objective!) || a.trial - b.trial);
}

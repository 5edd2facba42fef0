/**
 * The study journal's entries, and the study's state as a fold over them. Each entry is fsynced
 * before the controller acts on it: `trial-asked` before the trial's run is created, so a study
 * controller killed at any instant finds on resume every trial it started (a trial is a run, which
 * resumes from its own journal) and every result it told.
 *
 * ```
 * study-started   a controller (fresh or resuming) took the study
 * trial-asked     trial n, attempt a: its parameters, rung, run id
 * trial-told      trial n: succeeded with its objective, or failed with the reason (and an imputed value)
 * study-finished  succeeded | failed | cancelled
 * ```
 *
 * @module
 */
import { z } from "zod";

const Scalar = z.union([z.string(), z.number(), z.boolean()]);
const at = { at: z.number() };

/** One line of a study journal. */
export const StudyEntrySchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("study-started"), ...at, controller: z.string() }),
  z.object({
    type: z.literal("trial-asked"),
    ...at,
    trial: z.number().int().min(0),
    /** 1 for a trial's first run; more when `onTrialFailure: retry` ran it again. */
    attempt: z.number().int().min(1),
    runId: z.string(),
    /** The searched parameters (what the table shows). */
    params: z.record(z.string(), Scalar),
    /** Halving: the rung (0 first) and the rung parameter's value; 0 otherwise. */
    rung: z.number().int().min(0),
    budget: Scalar.optional(),
    /** Halving: the trial of the rung below this configuration was promoted from. */
    promotedFrom: z.number().int().optional(),
  }),
  z.object({
    type: z.literal("trial-told"),
    ...at,
    trial: z.number().int().min(0),
    runId: z.string(),
    status: z.enum(["succeeded", "failed"]),
    objective: z.number().optional(),
    /** The objective was imputed (`onTrialFailure: worst`), not measured. */
    imputed: z.boolean().optional(),
    reason: z.string().optional(),
    /** Wall-clock time of the trial's run (its last start to its end). */
    durationMs: z.number().optional(),
  }),
  z.object({ type: z.literal("study-finished"), ...at, status: z.enum(["succeeded", "failed", "cancelled"]), reason: z.string().optional() }),
]);
/** A study journal entry. */
export type StudyEntry = z.infer<typeof StudyEntrySchema>;
/** A `trial-asked` entry. */
export type TrialAsked = Extract<StudyEntry, { type: "trial-asked" }>;
/** A `trial-told` entry. */
export type TrialTold = Extract<StudyEntry, { type: "trial-told" }>;

/** One trial as the journal tells it. */
export interface TrialState {
  trial: number;
  /** The latest ask (a retry asks again with the next attempt). */
  asked: TrialAsked;
  told?: TrialTold;
}

/** The study's state: its trials in ask order, how it ended, how many controllers drove it. */
export interface StudyState {
  trials: Map<number, TrialState>;
  finished?: Extract<StudyEntry, { type: "study-finished" }>;
  starts: number;
  startedAt?: number;
}

/** Folds the journal into the study's state. A later start after a `study-finished` (a resume) reopens it. */
export function replayStudy(entries: readonly StudyEntry[]): StudyState {
  const state: StudyState = { trials: new Map(), starts: 0 };
  for (const entry of entries) {
    if (entry.type === "study-started") {
      state.starts += 1;
      state.startedAt ??= entry.at;
      delete state.finished;
    } else if (entry.type === "trial-asked") {
      state.trials.set(entry.trial, { trial: entry.trial, asked: entry });
    } else if (entry.type === "trial-told") {
      const trial = state.trials.get(entry.trial);
      if (trial && trial.asked.runId === entry.runId) trial.told = entry;
    } else {
      state.finished = entry;
    }
  }
  return state;
}

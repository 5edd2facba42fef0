/**
 * What a study reports while it runs, and the ids it gives its trials' runs.
 *
 * @module
 */
import type { RunEvent } from "../runner/run-types.js";
import type { TrialAsked, TrialTold } from "./study-journal.js";

/** Events of a study: trials asked (or resumed after a crash), told, and the study's end. */
export type StudyEvent =
  | { type: "trial:asked"; studyId: string; asked: TrialAsked; resumed: boolean }
  | { type: "trial:told"; studyId: string; told: TrialTold }
  /** An event of a trial's run (step starts, ends, …), with the trial it belongs to. */
  | { type: "trial:run"; studyId: string; trial: number; event: RunEvent }
  | { type: "study:complete"; studyId: string; status: "succeeded" | "failed" | "cancelled"; at: number };

/** Listener for {@link StudyEvent}s. */
export type StudyEventListener = (event: StudyEvent) => void;

/** The run id of a trial's attempt: `<study>-t007`, and `<study>-t007-r2` for its first retry. */
export function trialRunId(studyId: string, trial: number, attempt: number): string {
  return `${studyId}-t${String(trial).padStart(3, "0")}${attempt > 1 ? `-r${attempt}` : ""}`;
}

/** A new study id: `study-` and the time (UTC), then randomness, like run ids. */
export function newStudyId(now = new Date(), random: () => number = Math.random): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `study-${stamp}-${Math.floor(random() * 0xffffff)
    .toString(16)
    .padStart(6, "0")}`;
}

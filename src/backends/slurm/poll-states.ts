/**
 * Turning one poll cycle's answers (squeue / sacct rows, exit-code markers) into job states.
 *
 * @module
 */
import type { JobState } from "../queue-backend.js";
import { isDependencyNeverSatisfied, type JobStateContext, type SlurmJobInfo, toJobState } from "./slurm-state.js";

/** What one poll cycle learnt. */
export interface PollAnswers {
  /** Slurm's rows (squeue, then sacct for ids squeue no longer knows), by job id. */
  infos: ReadonlyMap<string, SlurmJobInfo>;
  /** Exit codes the jobs' wrappers wrote, by job id. */
  markers: ReadonlyMap<string, number>;
  /** Ids whose marker says the step's time limit stopped them. */
  timedOut: ReadonlySet<string>;
  /**
   * Ids this backend scancelled. One Slurm no longer knows at all was a pending array element:
   * Slurm drops those without a record (22.05), so it is `cancelled`, not `lost`.
   */
  cancelled?: ReadonlySet<string>;
}

/**
 * Sets the state of each of `ids` in `states`. `overrides` holds states the backend decided
 * itself; a job whose dependency can never be satisfied is failed there and its id returned, to
 * be scancelled.
 */
export function pollStates(ids: readonly string[], answers: PollAnswers, overrides: Map<string, JobState>, timeLimitOf: (id: string) => number | undefined, states: Map<string, JobState>): string[] {
  const neverSatisfied: string[] = [];
  for (const id of ids) {
    const override = overrides.get(id);
    const info = answers.infos.get(id);
    const context = { timeLimitSeconds: timeLimitOf(id), timedOut: answers.timedOut.has(id) };
    if (override) states.set(id, override);
    else if (info) {
      const state = toJobState(withMarker(info, answers.markers.get(id)), context);
      if (isDependencyNeverSatisfied(info)) {
        neverSatisfied.push(id);
        overrides.set(id, state);
      }
      states.set(id, state);
    } else if (answers.markers.has(id)) states.set(id, markerState(id, answers.markers.get(id) as number, context));
    else if (answers.cancelled?.has(id)) states.set(id, { status: "cancelled", reason: `Slurm job ${id} cancelled before it started` });
    else states.set(id, { status: "lost", reason: `Slurm does not know job ${id} (finished and purged, or never submitted)` });
  }
  return neverSatisfied;
}

function withMarker(info: SlurmJobInfo, marker: number | undefined): SlurmJobInfo {
  return marker !== undefined && info.exitCode === null ? { ...info, exitCode: marker } : info;
}

function markerState(id: string, code: number, context: JobStateContext): JobState {
  if (context.timedOut) return toJobState({ jobId: id, state: "FAILED", reason: "", exitCode: code, signal: null, nodes: "", name: "" }, context);
  if (code === 0) return { status: "succeeded", exitCode: 0 };
  return {
    status: "failed",
    exitCode: code,
    signal: null,
    infrastructure: false,
    reason: `Slurm job ${id} exited with code ${code} (from its exit-code marker)`,
  };
}

/**
 * One poll cycle of the Slurm backend: ONE exec (`squeue -r` for every id plus every exit-code
 * marker), and a `sacct` exec only for ids Slurm's controller forgot and no marker explains.
 *
 * @module
 */
import type { JobState } from "../queue-backend.js";
import { pollStates } from "./poll-states.js";
import { parsePollOutput, pollProgram, RUN_STDIN } from "./remote-scripts.js";
import { DEFINE_SEP, parseSacct, parseSqueue, sacctCommand } from "./slurm-output.js";
import type { ExecResult } from "./transport.js";

/** What a cycle needs from the backend. */
export interface PollCycleContext {
  exec(command: string, options: { stdin?: string; idempotent: true }): Promise<ExecResult>;
  /** The job's attempt directory on the cluster (its exit-code marker is there), when known. */
  dirOf(id: string): string | undefined;
  timeLimitOf(id: string): number | undefined;
  /** States the backend decided itself (see `pollStates`). */
  overrides: Map<string, JobState>;
  /** Ids the backend scancelled (see `PollAnswers.cancelled`). */
  cancelled: ReadonlySet<string>;
  /** Counts `squeue` and `sacct` runs. */
  count(command: "squeue" | "sacct"): void;
}

/** States of `ids` (valid Slurm ids) into `states`; returns the ids to scancel (dependency never satisfied). */
export async function pollCycle(ids: readonly string[], context: PollCycleContext, states: Map<string, JobState>): Promise<string[]> {
  const markerDirs = new Map<string, string>();
  for (const id of ids) {
    const dir = context.dirOf(id);
    if (dir) markerDirs.set(id, dir);
  }
  context.count("squeue");
  const result = await context.exec(RUN_STDIN, { stdin: pollProgram(ids, markerDirs), idempotent: true });
  const { squeue, markers, timedOut } = parsePollOutput(result.stdout);
  const infos = new Map(parseSqueue(squeue).map((info) => [info.jobId, info]));
  const missing = new Set(ids.filter((id) => !infos.has(id) && !markers.has(id) && !context.overrides.has(id) && !context.cancelled.has(id)));
  if (missing.size > 0) {
    context.count("sacct");
    const sacct = await context.exec(`${DEFINE_SEP}; ${sacctCommand([...missing])} || true`, { idempotent: true });
    for (const info of parseSacct(sacct.stdout)) if (missing.has(info.jobId)) infos.set(info.jobId, info);
  }
  return pollStates(ids, { infos, markers, timedOut, cancelled: context.cancelled }, context.overrides, context.timeLimitOf, states);
}

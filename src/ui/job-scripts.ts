/**
 * The scripts a Slurm job was submitted with, for the step page: the copies the Slurm backend
 * keeps in the local attempt directory (`submitted.sbatch`, and `submitted-element.sh` for a map
 * element run by an array). Read only inside the store, like logs.
 *
 * @module
 */
import { readFile, realpath } from "node:fs/promises";
import { join, sep } from "node:path";
import { ELEMENT_SCRIPT, SUBMITTED_SCRIPT } from "../backends/slurm/submit-batch.js";
import type { Store } from "../store/store.js";

/** An attempt's submitted scripts; both absent for a local job. */
export interface JobScripts {
  /** What `sbatch` was given (a map element's: its array's script). */
  sbatch?: string;
  /** A map element's own script, which the array script runs. */
  element?: string;
}

/** Reads the scripts kept for attempt `attempt` of `step` (the step must be one of the run's). */
export async function readJobScripts(store: Store, home: string, runId: string, step: string, attempt: number): Promise<JobScripts> {
  const dir = store.attemptPath(runId, step, attempt);
  const root = await realpath(home).catch(() => home);
  const read = async (name: string): Promise<string | undefined> => {
    try {
      const real = await realpath(join(dir, name));
      return real.startsWith(root + sep) ? await readFile(real, "utf8") : undefined;
    } catch {
      return undefined;
    }
  };
  const [sbatch, element] = await Promise.all([read(SUBMITTED_SCRIPT), read(ELEMENT_SCRIPT)]);
  return { ...(sbatch !== undefined ? { sbatch } : {}), ...(element !== undefined ? { element } : {}) };
}

/**
 * The scripts of a submitted batch, kept in each job's local attempt directory (as
 * `submitted.sbatch`, plus `submitted-element.sh` for an array element) so what Slurm was given
 * can be read here — by the dashboard's step page — while the job runs and after, without a
 * connection to the cluster.
 *
 * @module
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { JobSpec } from "../queue-backend.js";
import { type SubmitBatch, scriptsOf } from "./submit-batch.js";

/**
 * Writes the scripts of `batch` (submitted for `jobs`) under each job's `attemptDir`. A copy for
 * reading only: a failure to write one (a full disk) costs that copy, never the submission.
 */
export async function keepScripts(jobs: readonly JobSpec[], batch: SubmitBatch): Promise<void> {
  await Promise.all(
    [...scriptsOf(batch)].map(async ([index, files]) => {
      const dir = jobs[index]?.attemptDir;
      if (!dir) return;
      try {
        await mkdir(dir, { recursive: true });
        await Promise.all(Object.entries(files).map(([name, text]) => writeFile(join(dir, name), text, { mode: 0o644 })));
      } catch {
        // Only the copy is lost (see above).
      }
    }),
  );
}

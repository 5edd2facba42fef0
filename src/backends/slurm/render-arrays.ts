/**
 * What `run --dry-run` shows of a map on Slurm: the array job script(s) its elements go as, and
 * each element's own script, exactly as `submit()` would write them for the same specs (it is
 * the same rendering, {@link submitBatch}), without secrets. Pure.
 *
 * @module
 */
import type { JobSpec } from "../queue-backend.js";
import type { SlurmJobConfig } from "./resolve-job.js";
import { submitBatch } from "./submit-batch.js";

/** One rendered job script: a single job's, or an array element's. */
export interface RenderedJobScript {
  step: string;
  jobName: string;
  /** Its attempt directory on the cluster. */
  remoteAttemptDir: string;
  script: string;
}

/** One rendered array job. */
export interface RenderedArray {
  /** The array's Slurm job name. */
  jobName: string;
  /** Its directory on the cluster (its script, element list, `%A_%a` logs). */
  arrayDir: string;
  /** The array's script (`#SBATCH --array=0-N%K`, dispatching on `$SLURM_ARRAY_TASK_ID`). */
  script: string;
  throttle?: number;
  /** Index (in {@link RenderedSubmission.arrays}) of the array it waits for, when it does. */
  after?: number;
  /** Element `i` is array task `i`. */
  elements: RenderedJobScript[];
}

/** See {@link renderSlurmSubmission}. */
export interface RenderedSubmission {
  arrays: RenderedArray[];
  /** Specs that go as single jobs (no group, a group of one, or arrays disabled). */
  singles: RenderedJobScript[];
}

/**
 * Renders what one `submit(specs)` would send: arrays for the map elements that share
 * `group.key`, queue and resources (chunked at `maxArraySize`, default Slurm's 1001), single jobs
 * for the rest. `jobDir` must be absolute (the dry run uses the config's). Throws what `submit`
 * would throw for a job that cannot be rendered.
 */
export function renderSlurmSubmission(config: SlurmJobConfig, specs: readonly JobSpec[], jobDir: string, options: { maxArraySize?: number } = {}): RenderedSubmission {
  const batch = submitBatch(config, specs, jobDir, options.maxArraySize !== undefined ? { maxArraySize: options.maxArraySize } : {});
  const rendered = (item: { specIndex: number; jobName: string; remoteAttemptDir: string; script: string }): RenderedJobScript => ({
    step: specs[item.specIndex]?.step ?? "",
    jobName: item.jobName,
    remoteAttemptDir: item.remoteAttemptDir,
    script: item.script,
  });
  return {
    arrays: batch.arrays.map((a) => ({
      jobName: a.jobName,
      arrayDir: a.arrayDir,
      script: a.script,
      ...(a.throttle !== undefined ? { throttle: a.throttle } : {}),
      ...(a.after !== undefined ? { after: a.after } : {}),
      elements: a.elements.map(rendered),
    })),
    singles: batch.singles.map(rendered),
  };
}

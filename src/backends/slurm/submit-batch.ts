/**
 * The two ends of a Slurm batch submission: rendering every job of the batch into what the one
 * remote submit program needs (script, secret file, attempt directory), and turning a batch that
 * sbatch did not wholly accept into one error naming each refused job.
 *
 * @module
 */
import { BackendError, type JobRefusal } from "../../errors.js";
import type { JobSpec } from "../queue-backend.js";
import { renderBatchScript, renderSecretEnv } from "./batch-script.js";
import type { SubmitItem, SubmitOutcome } from "./remote-scripts.js";
import { resolveBatchJob, type SlurmJobConfig, secretLookingEnv } from "./resolve-job.js";
import type { ExecResult } from "./transport.js";

/**
 * The submit items of `jobs`, in order, with `runtimeSetup` lines first in each script. A job
 * whose script cannot be rendered (a container not configured, an invalid env name) is refused
 * under its own name, before anything is submitted (it would fail the same again): throws a
 * permanent {@link BackendError} naming each.
 */
export function submitItems(config: SlurmJobConfig, jobs: readonly JobSpec[], jobDir: string, runtimeSetup: readonly string[]): SubmitItem[] {
  const rendering = new Map<string, JobRefusal>();
  const items: SubmitItem[] = [];
  for (const spec of jobs) {
    try {
      const resolved = resolveBatchJob(config, spec, jobDir);
      const input = { ...resolved, setup: [...runtimeSetup, ...resolved.setup] };
      // Secret-looking env names travel with the secrets (0600 file), never in the script.
      const secretEnv = { ...secretLookingEnv(config, spec), ...spec.secretEnv };
      const secrets = Object.keys(secretEnv).length > 0 ? renderSecretEnv(secretEnv) : undefined;
      items.push({
        jobName: spec.jobName,
        remoteAttemptDir: input.remoteAttemptDir,
        script: renderBatchScript(input),
        ...(secrets !== undefined ? { secretEnv: secrets } : {}),
      });
    } catch (error) {
      rendering.set(spec.jobName, { reason: `step "${spec.step}": ${(error as Error).message}`, permanent: true });
    }
  }
  if (rendering.size > 0) {
    throw new BackendError("slurm", [...rendering.values()].map((r) => r.reason).join("; "), { permanent: true, refused: rendering });
  }
  return items;
}

/**
 * The error for a batch of which sbatch accepted only some (`outcome`; those were cancelled).
 * Each job sbatch refused gets its own refusal (the runner fails its step alone and submits the
 * others again); without one, the whole batch failed for the same reason, shown from `result`.
 */
export function submitFailure(jobs: readonly JobSpec[], outcome: SubmitOutcome, result: ExecResult): BackendError {
  const refused = new Map<string, JobRefusal>();
  for (const [index, error] of outcome.errors) {
    const spec = jobs[index];
    if (spec) refused.set(spec.jobName, { reason: `sbatch refused step "${spec.step}" (job ${spec.jobName}): ${error}`, permanent: false });
  }
  const firstError = [...refused.values()][0];
  const detail = firstError ? firstError.reason : `unexpected output: ${(result.stdout + result.stderr).trim().slice(0, 500) || `(none, exit ${result.code})`}`;
  return new BackendError("slurm", `sbatch failed for ${jobs.length - outcome.ok.size} of ${jobs.length} job(s); ${outcome.ok.size} submitted before it were cancelled. ${detail}`, { refused });
}

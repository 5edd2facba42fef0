/**
 * The two ends of a Slurm batch submission: rendering every job of the batch into what the one
 * remote submit program needs (single jobs, and map elements as job arrays: scripts, secret and
 * input files, attempt directories), and turning a batch that sbatch did not wholly accept into
 * one error naming each refused job.
 *
 * @module
 */
import { posix } from "node:path";
import { BackendError, type JobRefusal } from "../../errors.js";
import type { JobSpec } from "../queue-backend.js";
import { arrayJobName, planSubmission } from "./array-plan.js";
import { ARRAYS_DIR, renderArrayScript } from "./array-script.js";
import { type BatchScriptInput, renderBatchScript, renderElementScript, renderSecretEnv } from "./batch-script.js";
import { checkedInputFiles, type InputFile } from "./input-files.js";
import { resolveBatchJob, runDirName, type SlurmJobConfig, secretLookingEnv } from "./resolve-job.js";
import type { ExecResult } from "./transport.js";

/** One job to submit, or one element of an array. */
export interface SubmitItem {
  jobName: string;
  remoteAttemptDir: string;
  script: string;
  /** Text of the 0600 secret env file, or `undefined` for none. */
  secretEnv?: string;
  /** Files written under `remoteAttemptDir` before the job is submitted. */
  inputFiles?: readonly InputFile[];
}

/** A single job or an array element, with the index of its spec in the submitted batch. */
export type IndexedItem = SubmitItem & { specIndex: number };

/** One array job to submit. */
export interface ArraySubmitItem {
  /** The array's Slurm job name. */
  jobName: string;
  /** Its directory: the array's script, its element list, Slurm's `%A_%a` logs. */
  arrayDir: string;
  script: string;
  /** `%K`, when set. */
  throttle?: number;
  /** Index (in {@link SubmitBatch.arrays}) of an array this one starts after (`afterany`). */
  after?: number;
  /** In array-index order. */
  elements: IndexedItem[];
}

/** Everything one submit program submits. */
export interface SubmitBatch {
  singles: IndexedItem[];
  arrays: ArraySubmitItem[];
}

/** Options of {@link submitBatch}. */
export interface SubmitBatchOptions {
  /** Lines run first in every job's script (the shipped runtime's setup). */
  runtimeSetup?: readonly string[];
  /** Lines run first in one job's script, before `runtimeSetup` (the run's shipped code). */
  jobSetup?: (spec: JobSpec) => readonly string[];
  /** The cluster's `MaxArraySize` (default 1001; below 2: no arrays). */
  maxArraySize?: number;
}

/** The array's directory: `<jobDir>/<run>/.arrays/<array job name>`. */
export function arrayDirFor(jobDir: string, runId: string, arrayName: string): string {
  return posix.join(jobDir, runDirName(runId), ARRAYS_DIR, arrayName);
}

/**
 * The batch to submit for `jobs` (see `array-plan.ts` for which go as arrays). A job that cannot
 * be rendered (a container not configured, an invalid env name, a bad input file path) is
 * refused under its own name, before anything is submitted (it would fail the same again):
 * throws a permanent {@link BackendError} naming each.
 */
export function submitBatch(config: SlurmJobConfig, jobs: readonly JobSpec[], jobDir: string, options: SubmitBatchOptions = {}): SubmitBatch {
  const plan = planSubmission(jobs, options.maxArraySize ?? 1001);
  const inArray = new Set(plan.arrays.flatMap((a) => a.specIndices));
  const rendering = new Map<string, JobRefusal>();
  const resolved = new Map<number, { input: BatchScriptInput; item: IndexedItem }>();
  jobs.forEach((spec, specIndex) => {
    try {
      const base = resolveBatchJob(config, spec, jobDir);
      const input = { ...base, setup: [...(options.jobSetup?.(spec) ?? []), ...(options.runtimeSetup ?? []), ...base.setup] };
      // Secret-looking env names travel with the secrets (0600 file), never in the script.
      const secretEnv = { ...secretLookingEnv(config, spec), ...spec.secretEnv };
      const secrets = Object.keys(secretEnv).length > 0 ? renderSecretEnv(secretEnv) : undefined;
      const inputFiles = checkedInputFiles(spec.inputFiles);
      const item: IndexedItem = {
        specIndex,
        jobName: spec.jobName,
        remoteAttemptDir: input.remoteAttemptDir,
        script: inArray.has(specIndex) ? renderElementScript(input) : renderBatchScript(input),
        ...(secrets !== undefined ? { secretEnv: secrets } : {}),
        ...(inputFiles.length > 0 ? { inputFiles } : {}),
      };
      resolved.set(specIndex, { input, item });
    } catch (error) {
      rendering.set(spec.jobName, { reason: `step "${spec.step}": ${(error as Error).message}`, permanent: true });
    }
  });
  const arrays: ArraySubmitItem[] = [];
  for (const planned of plan.arrays) {
    const members = planned.specIndices.map((i) => resolved.get(i)).filter((m) => m !== undefined);
    const first = jobs[planned.specIndices[0] as number] as JobSpec;
    if (members.length !== planned.specIndices.length || members.length === 0) continue; // refused above
    const jobName = arrayJobName(
      first.group?.key ?? "",
      members.map((m) => m.item.jobName),
    );
    const arrayDir = arrayDirFor(jobDir, first.runId, jobName);
    try {
      const script = renderArrayScript({
        jobName,
        runId: first.runId,
        map: first.group?.map ?? first.step,
        arrayDir,
        sbatch: (members[0] as { input: BatchScriptInput }).input.sbatch,
        ...(planned.throttle !== undefined ? { throttle: planned.throttle } : {}),
        elements: members.map((m) => m.item),
      });
      arrays.push({
        jobName,
        arrayDir,
        script,
        ...(planned.throttle !== undefined ? { throttle: planned.throttle } : {}),
        ...(planned.after !== undefined ? { after: planned.after } : {}),
        elements: members.map((m) => m.item),
      });
    } catch (error) {
      for (const m of members) rendering.set(m.item.jobName, { reason: `step "${jobs[m.item.specIndex]?.step}": ${(error as Error).message}`, permanent: true });
    }
  }
  if (rendering.size > 0) {
    throw new BackendError("slurm", [...rendering.values()].map((r) => r.reason).join("; "), { permanent: true, refused: rendering });
  }
  return { singles: plan.singles.map((i) => (resolved.get(i) as { item: IndexedItem }).item), arrays };
}

/** Spec index → the job's attempt directory on the cluster, for every job of `batch`. */
export function attemptDirsOf(batch: SubmitBatch): Map<number, string> {
  return new Map([...batch.singles, ...batch.arrays.flatMap((a) => a.elements)].map((item) => [item.specIndex, item.remoteAttemptDir]));
}

/**
 * The name under a job's local attempt directory of the script sbatch was given (see
 * {@link scriptsOf}); not `job.sbatch`, which the cluster side writes and an array runs, and which
 * a login node's shared attempt directory would otherwise see overwritten.
 */
export const SUBMITTED_SCRIPT = "submitted.sbatch";
/** For a map element submitted in an array: the name of its own script, which the array's script runs. */
export const ELEMENT_SCRIPT = "submitted-element.sh";

/**
 * Spec index → the scripts of its job as submitted: {@link SUBMITTED_SCRIPT} (a single job's
 * script, or its array's), plus {@link ELEMENT_SCRIPT} for an array element. They hold no secret
 * (those travel in the 0600 env file); kept in the local attempt directory so the dashboard's step
 * page can show them.
 */
export function scriptsOf(batch: SubmitBatch): Map<number, Record<string, string>> {
  const scripts = new Map<number, Record<string, string>>();
  for (const single of batch.singles) scripts.set(single.specIndex, { [SUBMITTED_SCRIPT]: single.script });
  for (const array of batch.arrays) {
    for (const element of array.elements) scripts.set(element.specIndex, { [SUBMITTED_SCRIPT]: array.script, [ELEMENT_SCRIPT]: element.script });
  }
  return scripts;
}

/** What the submit program reported (see `submit-program.ts`). */
export interface SubmitOutcomeLike {
  /** Spec index → job id, submitted now or found. */
  ok: ReadonlyMap<number, string>;
  /** Spec indices of `ok` found already submitted (not cancelled on a failure). */
  reused?: ReadonlySet<number>;
  errors: ReadonlyMap<number, string>;
}

/**
 * The error for a batch of which sbatch accepted only some (`outcome`; those were cancelled).
 * Each job sbatch refused gets its own refusal (the runner fails its step alone and submits the
 * others again); without one, the whole batch failed for the same reason, shown from `result`.
 */
export function submitFailure(jobs: readonly JobSpec[], outcome: SubmitOutcomeLike, result: ExecResult): BackendError {
  const refused = new Map<string, JobRefusal>();
  for (const [index, error] of outcome.errors) {
    const spec = jobs[index];
    if (spec) refused.set(spec.jobName, { reason: `sbatch refused step "${spec.step}" (job ${spec.jobName}): ${error}`, permanent: false });
  }
  const firstError = [...refused.values()][0];
  const detail = firstError ? firstError.reason : `unexpected output: ${(result.stdout + result.stderr).trim().slice(0, 500) || `(none, exit ${result.code})`}`;
  const found = outcome.reused?.size ?? 0;
  const cancelled = `${outcome.ok.size - found} submitted before it were cancelled${found > 0 ? `, ${found} found already submitted were left alone` : ""}`;
  return new BackendError("slurm", `sbatch failed for ${jobs.length - outcome.ok.size} of ${jobs.length} job(s); ${cancelled}. ${detail}`, { refused });
}

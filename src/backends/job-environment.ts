/**
 * The environment gpu-dag gives every job, on every backend — defined once, here. Backends add
 * it after the job's own `env` (so a task cannot spoof which run, step or attempt it is), put the
 * job-side Python runtime first on `PYTHONPATH`, and pass secrets their own way (never here).
 *
 * | variable | value |
 * | --- | --- |
 * | `GPU_DAG_RUN_ID` | the run id |
 * | `GPU_DAG_STEP` | the step name |
 * | `GPU_DAG_ATTEMPT` | the attempt number (1, 2, … with retries) |
 * | `GPU_DAG_OUTPUT_DIR` | the attempt directory as the job sees it; `outputs.json` goes there |
 *
 * @module
 */
import type { JobSpec } from "./queue-backend.js";

/** Names of the variables in {@link jobEnvironment}. */
export const JobEnv = {
  RunId: "GPU_DAG_RUN_ID",
  Step: "GPU_DAG_STEP",
  Attempt: "GPU_DAG_ATTEMPT",
  OutputDir: "GPU_DAG_OUTPUT_DIR",
} as const;

/**
 * The variables every job gets, for `spec` with its attempt directory at `outputDir` as the job
 * sees it (e.g. on a cluster's shared filesystem). Not secret: backends may write them to scripts.
 */
export function jobEnvironment(spec: Pick<JobSpec, "runId" | "step" | "attempt">, outputDir: string): Record<string, string> {
  return {
    [JobEnv.RunId]: spec.runId,
    [JobEnv.Step]: spec.step,
    [JobEnv.Attempt]: String(spec.attempt),
    [JobEnv.OutputDir]: outputDir,
  };
}

/**
 * Before a run's first job: ask the backend whether the paths the steps need are there where
 * the jobs run (on Slurm, one remote command for all of them; see `checkPaths` in the cluster
 * config). A missing input, an output directory that cannot be made or a container mount
 * without a source would fail a job after it waited in the queue — or after its parents ran for
 * hours; the run is refused instead, naming every step, field and path.
 *
 * @module
 */
import type { QueueBackend } from "../backends/queue-backend.js";
import { PipelineValidationError } from "../errors.js";
import type { PipelinePlan } from "../pipeline/validate.js";
import { stepPaths } from "./step-paths.js";

/** Throws a {@link PipelineValidationError} when `backend` reports paths the steps cannot use. */
export async function refuseMissingPaths(plan: PipelinePlan, backend: QueueBackend): Promise<void> {
  if (!backend.checkPaths) return;
  const problems = await backend.checkPaths(stepPaths(plan));
  if (problems.length > 0) throw new PipelineValidationError(plan.spec.pipelineName, problems);
}

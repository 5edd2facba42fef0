/**
 * Before a run's first job: ask the backend which steps' resources it can never give (on Slurm,
 * one `sinfo`: a partition that does not exist, more GPUs, CPUs, memory or nodes than it has).
 * Such a step would wait for ever, or be refused after its parents ran for hours; the run is
 * refused instead, naming every such step (the local pool is checked earlier, in planning).
 *
 * @module
 */
import type { QueueBackend, ResourceRequest } from "../backends/queue-backend.js";
import { stepResources } from "../config/resolve-queue.js";
import { PipelineValidationError } from "../errors.js";
import type { PipelinePlan } from "../pipeline/validate.js";
import type { ExecutionEnvironment } from "../runner/environment.js";

/** Throws a {@link PipelineValidationError} when `backend` reports steps it can never run. */
export async function refuseUnmeetableResources(plan: PipelinePlan, environment: Pick<ExecutionEnvironment, "resolveQueue">, backend: QueueBackend): Promise<void> {
  if (!backend.checkResources) return;
  const requests: ResourceRequest[] = [];
  for (const name of plan.order) {
    const step = plan.steps.get(name)!.spec;
    const queue = environment.resolveQueue(step.executionQueue);
    if ("error" in queue) continue; // reported by planning
    requests.push({ step: name, queue: step.executionQueue, resources: stepResources(queue, step.timeLimit) });
  }
  const problems = await backend.checkResources(requests);
  if (problems.length > 0) {
    throw new PipelineValidationError(
      plan.spec.pipelineName,
      problems.map((p) => ({ step: p.step, field: "executionQueue", message: p.message })),
    );
  }
}

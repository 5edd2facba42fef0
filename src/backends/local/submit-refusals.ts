/**
 * Jobs a local backend refuses at submission, each with its own reason: more GPUs than the pool
 * has, or GPUs without `flock(1)` for their leases. Both are permanent (a retry fails the same way).
 *
 * @module
 */
import { BackendError, type JobRefusal } from "../../errors.js";
import type { JobSpec } from "../queue-backend.js";
import { hasFlock } from "./gpu-leases.js";
import type { GpuPool } from "./gpu-pool.js";

/** Throws a permanent {@link BackendError} naming every job of `jobs` that `pool` can never run. */
export function refuseUnfit(jobs: readonly JobSpec[], pool: GpuPool): void {
  // Every job at fault is named with its own reason; the others of the batch are not submitted
  // either (the runner submits them again), so nothing is left half done.
  const refused = new Map<string, JobRefusal>();
  for (const spec of jobs) {
    if (spec.resources.gpus * spec.resources.nodes > pool.size) {
      // Permanent: the pool does not grow, so a retry would fail the same way.
      const reason = `step "${spec.step}" (queue "${spec.queue}") asks for ${spec.resources.gpus} GPU(s) but this machine's pool has ${pool.size}; set gpus in the local cluster config or use a smaller queue`;
      refused.set(spec.jobName, { reason, permanent: true });
    } else if (spec.resources.gpus > 0 && !hasFlock()) {
      refused.set(spec.jobName, { reason: `step "${spec.step}" needs GPUs, and GPU leases need flock(1) (util-linux) on PATH, which is not there`, permanent: true });
    }
  }
  if (refused.size > 0) {
    const reasons = [...refused.values()].map((r) => r.reason);
    throw new BackendError("local", reasons.length === 1 ? reasons[0]! : `${reasons.length} of ${jobs.length} jobs refused: ${reasons.join("; ")}`, {
      permanent: true,
      refused,
    });
  }
}

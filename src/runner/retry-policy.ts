/**
 * Retry policy: whether a failed attempt is retried, and after how long. Infrastructure failures
 * (node failure, preemption, lost job, a refused submission) have their own budget
 * (`infrastructureRetries`, default 2); the job's own failures have the step's `retryOnFailure`
 * (default 0). Delays grow exponentially with jitter, so many steps' retries do not hit the
 * cluster at once.
 *
 * @module
 */

/** A step's failures so far (this one counted) and its budgets. */
export interface RetryInput {
  infrastructure: boolean;
  infraFailures: number;
  jobFailures: number;
  infrastructureRetries: number | undefined;
  retryOnFailure: number | undefined;
}

/** True when the failure just counted is retried. */
export function shouldRetry(input: RetryInput): boolean {
  return input.infrastructure ? input.infraFailures <= (input.infrastructureRetries ?? 2) : input.jobFailures <= (input.retryOnFailure ?? 0);
}

/** Delay before retry number `failures` (1-based): `base · 2^(failures-1)`, times a jitter in [0.5, 1). */
export function backoffDelay(baseMs: number | undefined, failures: number, random: () => number = Math.random): number {
  return (baseMs ?? 1000) * 2 ** (failures - 1) * (0.5 + random() * 0.5);
}

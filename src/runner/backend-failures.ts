/**
 * Backend errors as the run sees them. A submission error is attributed to the steps it belongs
 * to: jobs the backend names as refused are their own steps' failures; a permanent connection
 * error (a refused SSH host key or key: `isPermanentError`) fails the run once; anything else is
 * every step's failure of the batch, retried unless the backend said it would fail again.
 *
 * @module
 */
import { type BackendNotice, describeNotice } from "../backends/queue-backend.js";
import { BackendError, type GpuDagError, type JobRefusal, permanentErrorOf } from "../errors.js";
import type { RunContext } from "./run-context.js";

/** What a failed batch submission means. */
export type SubmitFailure =
  /** The backend refused these jobs by name; the rest of the batch may be submitted again. */
  | { kind: "refused"; refused: ReadonlyMap<string, JobRefusal> }
  /** The cluster refused the connection: the run fails (see the controller's module comment). */
  | { kind: "connection"; error: GpuDagError }
  /** The whole batch failed; `permanent` when the same submission would fail again. */
  | { kind: "batch"; message: string; permanent: boolean };

/** Classifies a `submit()` error of a batch whose job names are `jobNames`. */
export function classifySubmitError(error: unknown, jobNames: readonly string[]): SubmitFailure {
  const refused = error instanceof BackendError ? error.refused : new Map<string, JobRefusal>();
  if (jobNames.some((name) => refused.has(name))) return { kind: "refused", refused };
  const permanent = permanentErrorOf(error);
  if (permanent && !(permanent instanceof BackendError)) return { kind: "connection", error: permanent };
  // A backend's permanent refusal (more GPUs than the machine has) would be refused again: no retry.
  return { kind: "batch", message: (error as Error).message, permanent: permanent !== undefined };
}

/** A permanent error in a few words, for step reasons (the run's reason has the full message). */
export function refusal(error: GpuDagError): string {
  return `the cluster refused the connection (${error.code})`;
}

/** An outage of the backend's connection, or its end: journaled and emitted as `run:notice`. */
export function recordNotice(ctx: RunContext, notice: BackendNotice): void {
  const message = ctx.journal.scrub(describeNotice(notice));
  const at = Date.now();
  void ctx.journal.appendTracked({ type: "backend-notice", at, kind: notice.kind, message });
  ctx.emit({ type: "run:notice", runId: ctx.options.runId, kind: notice.kind, message, at });
}

/**
 * A run's state as a fold over its journal. The journal is the source of truth: `status`,
 * `resume` and the CLI all read runs through this function, never through controller memory.
 *
 * @module
 */
import type { JournalEntry, StepOutputs } from "../store/records.js";
import type { MapTally, RunStatus, StepStatus } from "./run-types.js";

/** One attempt as the journal tells it. */
export interface ReplayedAttempt {
  attempt: number;
  jobName: string;
  queue: string;
  argv: string[];
  parameters: Record<string, unknown>;
  plannedAt: number;
  backendJobId?: string;
  submittedAt?: number;
  startedAt?: number;
  endedAt?: number;
  status?: "succeeded" | "failed" | "cancelled" | "lost";
  exitCode?: number | null;
  infrastructure?: boolean;
  reason?: string;
  outputs?: StepOutputs;
  cacheKey?: string;
}

/** One step as the journal tells it. */
export interface ReplayedStep {
  name: string;
  status: StepStatus;
  attempts: ReplayedAttempt[];
  reason?: string;
  outputs?: StepOutputs;
  /** Set when the step reused an earlier run's outputs. */
  cachedFrom?: { runId: string; step: string };
  /** A map step, once settled: how its elements ended. */
  elements?: MapTally;
}

/** A run as the journal tells it. */
export interface ReplayedRun {
  /** `running` until a `run-finished` entry. */
  status: RunStatus | "running";
  startedAt?: number;
  endedAt?: number;
  steps: Map<string, ReplayedStep>;
  /** How many controllers have started this run (1 + resumes). */
  controllerStarts: number;
  /** Why the run failed as a whole (e.g. the cluster refused the SSH connection), when it did. */
  reason?: string;
  /** The latest backend notice (`connection … lost, retrying …`, `… restored …`). */
  notice?: { at: number; kind: string; message: string };
}

/** Folds journal entries into run state. `stepNames` seeds steps that have no entry yet (pending). */
export function replayJournal(entries: readonly JournalEntry[], stepNames: readonly string[] = []): ReplayedRun {
  const run: ReplayedRun = { status: "running", steps: new Map(), controllerStarts: 0 };
  const step = (name: string): ReplayedStep => {
    let s = run.steps.get(name);
    if (!s) {
      s = { name, status: "pending", attempts: [] };
      run.steps.set(name, s);
    }
    return s;
  };
  for (const name of stepNames) step(name);
  const attemptOf = (name: string, attempt: number) => step(name).attempts.find((a) => a.attempt === attempt);

  for (const entry of entries) {
    switch (entry.type) {
      case "run-started":
        run.controllerStarts += 1;
        run.startedAt ??= entry.at;
        // A resumed run is running again until it finishes again.
        run.status = "running";
        delete run.endedAt;
        delete run.reason;
        break;
      case "attempt-planned": {
        const s = step(entry.step);
        s.attempts = s.attempts.filter((a) => a.attempt !== entry.attempt);
        s.attempts.push({
          attempt: entry.attempt,
          jobName: entry.jobName,
          queue: entry.queue,
          argv: entry.argv,
          parameters: entry.parameters,
          plannedAt: entry.at,
          ...(entry.cacheKey ? { cacheKey: entry.cacheKey } : {}),
        });
        s.status = "queued";
        delete s.reason;
        break;
      }
      case "job-submitted": {
        const a = attemptOf(entry.step, entry.attempt);
        if (a) {
          a.backendJobId = entry.backendJobId;
          a.submittedAt = entry.at;
        }
        break;
      }
      case "job-waiting": {
        // Shown while the step is queued on this attempt; its start (or end) replaces it.
        const s = step(entry.step);
        const last = s.attempts[s.attempts.length - 1];
        if (s.status !== "queued" || last?.attempt !== entry.attempt) break;
        if (entry.reason) s.reason = entry.reason;
        else delete s.reason;
        break;
      }
      case "job-started": {
        const a = attemptOf(entry.step, entry.attempt);
        if (a) a.startedAt = entry.at;
        const s = step(entry.step);
        s.status = "running";
        delete s.reason; // a waiting reason; nothing else sets one before the attempt ends
        break;
      }
      case "attempt-finished": {
        const s = step(entry.step);
        const a = attemptOf(entry.step, entry.attempt);
        if (a) {
          a.endedAt = entry.at;
          a.status = entry.status;
          a.exitCode = entry.exitCode;
          a.infrastructure = entry.infrastructure;
          a.reason = entry.reason;
          if (entry.outputs) a.outputs = entry.outputs;
        }
        if (entry.status === "succeeded") {
          s.status = "succeeded";
          if (entry.outputs) s.outputs = entry.outputs;
        } else {
          // A retry shows up as a new attempt-planned; until then the step counts as failed.
          s.status = entry.status === "cancelled" ? "cancelled" : "failed";
          s.reason = entry.reason;
        }
        break;
      }
      case "step-skipped": {
        const s = step(entry.step);
        s.status = "skipped";
        s.reason = entry.reason;
        break;
      }
      case "map-finished": {
        const s = step(entry.step);
        s.status = entry.status;
        s.elements = { total: entry.total, required: entry.required, succeeded: entry.succeeded, missing: entry.missing };
        if (entry.reason !== undefined) s.reason = entry.reason;
        else delete s.reason;
        break;
      }
      case "step-cached": {
        const s = step(entry.step);
        s.status = "cached";
        s.outputs = entry.outputs;
        s.cachedFrom = { runId: entry.fromRunId, step: entry.fromStep };
        break;
      }
      case "run-finished":
        run.status = entry.status;
        run.endedAt = entry.at;
        if (entry.reason !== undefined) run.reason = entry.reason;
        break;
      case "backend-notice":
        run.notice = { at: entry.at, kind: entry.kind, message: entry.message };
        break;
    }
  }
  return run;
}

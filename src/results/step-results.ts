/**
 * One run's steps as results: for each step that ended, its outcome, the parameters and command of
 * the attempt that produced it, the model it was given, its outputs (metric series included) and
 * the task draft behind it. Read from the run record and journal (compare, reports and lineage
 * read a few runs this way; the run table reads only the index).
 *
 * @module
 */
import type { JournalEntry, RunRecord, StepOutputs, TaskRecord } from "../store/records.js";
import { plannedInput } from "../store/run-summary.js";
import type { Store } from "../store/store.js";
import { baseStep } from "./refs.js";

/** A step that ended. */
export interface StepResult {
  runId: string;
  runName?: string;
  step: string;
  status: "succeeded" | "cached" | "failed" | "cancelled" | "lost" | "skipped";
  attempt?: number;
  /** When it ended (ms). */
  at: number;
  /** The resolved task options of the attempt (`attempt-planned`). */
  parameters?: Record<string, unknown>;
  /** The command it ran. */
  argv?: string[];
  queue?: string;
  outputs?: StepOutputs;
  /** The model it was given (`modelId`) and the path it read it from. */
  input?: string;
  inputPath?: string;
  /** The task draft of the step. */
  task?: Pick<TaskRecord, "id" | "type" | "taskName" | "options">;
  /** A cached step: the run whose outputs it reused. */
  fromRunId?: string;
}

/** A run's record and its ended steps. */
export interface RunResults {
  record: RunRecord;
  steps: StepResult[];
}

/** Reads run `runId` (throws `RunNotFoundError`). */
export async function loadRunResults(store: Store, runId: string): Promise<RunResults> {
  const record = await store.getRun(runId);
  return { record, steps: stepResults(record, await store.readJournal(runId)) };
}

/** The ended steps of a run, from its record and journal, in pipeline order (a map step's elements by index). */
export function stepResults(record: RunRecord, entries: readonly JournalEntry[]): StepResult[] {
  const spec = record.pipeline as { steps?: Array<{ name: string; baseTaskId: string }>; tasks?: Record<string, { type: TaskRecord["type"]; options: Record<string, unknown> }> };
  const taskOf = new Map<string, StepResult["task"]>();
  for (const step of spec.steps ?? []) {
    const stored = record.tasks.find((t) => t.id === step.baseTaskId);
    const inline = spec.tasks?.[step.baseTaskId];
    if (stored) taskOf.set(step.name, { id: stored.id, type: stored.type, taskName: stored.taskName, options: stored.options });
    else if (inline) taskOf.set(step.name, { id: step.baseTaskId, type: inline.type, taskName: step.baseTaskId, options: inline.options });
  }
  const planned = new Map<string, Extract<JournalEntry, { type: "attempt-planned" }>>();
  const ended = new Map<string, StepResult>();
  const common = (step: string) => {
    const task = taskOf.get(step) ?? taskOf.get(baseStep(step));
    return { runId: record.id, ...(record.name ? { runName: record.name } : {}), step, ...(task ? { task } : {}) };
  };
  for (const entry of entries) {
    if (entry.type === "attempt-planned") planned.set(entry.step, entry);
    else if (entry.type === "attempt-finished") {
      const plan = planned.get(entry.step);
      const own = plan && plan.attempt === entry.attempt ? plan : undefined;
      const input = own ? plannedInput(own) : undefined;
      ended.delete(entry.step);
      ended.set(entry.step, {
        ...common(entry.step),
        status: entry.status,
        attempt: entry.attempt,
        at: entry.at,
        ...(own ? { parameters: own.parameters, argv: own.argv, queue: own.queue } : {}),
        ...(input?.input ? { input: input.input } : {}),
        ...(input?.inputPath ? { inputPath: input.inputPath } : {}),
        ...(entry.outputs ? { outputs: entry.outputs } : {}),
      });
    } else if (entry.type === "step-cached") {
      ended.delete(entry.step);
      ended.set(entry.step, { ...common(entry.step), status: "cached", at: entry.at, outputs: entry.outputs, fromRunId: entry.fromRunId });
    } else if (entry.type === "step-skipped") {
      ended.delete(entry.step);
      ended.set(entry.step, { ...common(entry.step), status: "skipped", at: entry.at });
    }
  }
  const order = new Map((spec.steps ?? []).map((step, i) => [step.name, i]));
  const rank = (name: string) => [order.get(baseStep(name)) ?? order.size, Number(/\[(\d+)\]$/.exec(name)?.[1] ?? -1)] as const;
  return [...ended.values()].sort((a, b) => {
    const [x, y] = [rank(a.step), rank(b.step)];
    return x[0] - y[0] || x[1] - y[1] || a.at - b.at;
  });
}

/** True when the step produced results (succeeded, or reused them from the cache). */
export function hasOutputs(step: StepResult): step is StepResult & { outputs: StepOutputs } {
  return (step.status === "succeeded" || step.status === "cached") && step.outputs !== undefined;
}

/**
 * True for a step that measured a model: it ended with metrics and made no model, and is not a
 * compression or a generation (those read a model too, but to make something from it).
 */
export function isEvaluation(step: StepResult): step is StepResult & { outputs: StepOutputs } {
  if (!hasOutputs(step) || step.outputs.models.length > 0 || Object.keys(step.outputs.metrics).length === 0) return false;
  return step.task?.type !== "llm-compressor" && step.task?.type !== "generate";
}

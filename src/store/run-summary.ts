/**
 * A run in one small record — labels, parameters, status, and each finished step's metrics and
 * models — as the run index keeps it (`run-index.ts`), so a table of thousands of runs is read
 * without replaying a journal. Pure: the index lines are *deltas* made from the run record and
 * from journal entries, and a summary is their fold.
 *
 * The fold does not depend on the order of the lines: each part (the run's labels, its status,
 * each step's outcome) keeps the delta with the latest `at` (a later line wins a tie). So a line
 * written twice, or appended after a compaction raced it, changes nothing.
 *
 * @module
 */
import type { JournalEntry, RunRecord, StepOutputs } from "./records.js";

/** A parameter value. */
export type Scalar = string | number | boolean;

/** A run's status in the index: `created` until its first controller starts it. */
export type IndexedRunStatus = "created" | "running" | "succeeded" | "failed" | "cancelled";

/** A step's last outcome. */
export interface IndexedStep {
  status: "succeeded" | "cached" | "failed" | "cancelled" | "lost" | "skipped";
  /** When it was journaled (ms). */
  at: number;
  attempt?: number;
  /** Last value of each metric it reported. */
  metrics?: Record<string, number>;
  /** Ids of the models it produced. */
  models?: string[];
  /** The model it was given (`modelId`: a store model id, a path or a hub name). */
  input?: string;
  /** Where that model was read from (the resolved `--model` argument), when known. */
  inputPath?: string;
  simulated?: boolean;
  /** A cached step: the run that produced its outputs. */
  fromRunId?: string;
}

/** What a run is, from its record: fixed once the run is created. */
export interface RunLabels {
  id: string;
  name?: string;
  tags: string[];
  runAfter: string[];
  projectName: string;
  pipelineName: string;
  createdAt: string;
  cluster: string;
  mode: RunRecord["mode"];
  runtime?: "real" | "simulate";
  /** The pipeline's parameters: declared defaults, then the values the run was given. */
  params: Record<string, Scalar>;
  /** Steps in the pipeline (a map step counts once; its elements are added as they end). */
  stepCount: number;
  /** Each pipeline step's task type (`lm-eval`, `llm-compressor`, …): which steps measure a model. */
  stepTypes?: Record<string, string>;
}

/** A run as the index holds it. */
export interface RunSummary extends RunLabels {
  status: IndexedRunStatus;
  /** When the status was journaled (creation time while `created`). */
  statusAt: number;
  startedAt?: number;
  endedAt?: number;
  reason?: string;
  /** Steps that ended, by name (map elements as `step[i]`). */
  steps: Record<string, IndexedStep>;
}

/** One line of the index. */
export type IndexDelta =
  | { k: "run"; id: string; at: number; run: RunLabels }
  | { k: "status"; id: string; at: number; status: IndexedRunStatus; reason?: string }
  | { k: "step"; id: string; at: number; step: string; s: IndexedStep }
  | { k: "full"; id: string; at: number; summary: RunSummary };

/** The labels of a run record. */
export function labelsOf(record: RunRecord): RunLabels {
  const spec = record.pipeline as { parameters?: Record<string, { default?: Scalar }>; steps?: unknown[] } | undefined;
  const params: Record<string, Scalar> = {};
  for (const [key, declared] of Object.entries(spec?.parameters ?? {})) if (declared?.default !== undefined) params[key] = declared.default;
  Object.assign(params, record.options.parameters);
  return {
    id: record.id,
    ...(record.name ? { name: record.name } : {}),
    tags: record.tags ?? [],
    runAfter: record.runAfter ?? [],
    projectName: record.projectName,
    pipelineName: record.pipelineName,
    createdAt: record.createdAt,
    cluster: record.cluster.name,
    mode: record.mode,
    ...(record.options.runtime ? { runtime: record.options.runtime } : {}),
    params,
    stepCount: Array.isArray(spec?.steps) ? spec.steps.length : 0,
    stepTypes: stepTypesOf(record),
  };
}

/** Each step's task type, from the record's drafts and the pipeline's inline tasks. */
function stepTypesOf(record: RunRecord): Record<string, string> {
  const spec = record.pipeline as { steps?: Array<{ name?: unknown; baseTaskId?: unknown }>; tasks?: Record<string, { type?: unknown }> } | undefined;
  const types: Record<string, string> = {};
  for (const step of spec?.steps ?? []) {
    if (typeof step.name !== "string" || typeof step.baseTaskId !== "string") continue;
    const type = record.tasks.find((t) => t.id === step.baseTaskId)?.type ?? spec?.tasks?.[step.baseTaskId]?.type;
    if (typeof type === "string") types[step.name] = type;
  }
  return types;
}

/** The model an attempt was given, from its planned entry. */
export interface PlannedInput {
  attempt: number;
  input?: string;
  inputPath?: string;
}

/** A model id the store gave (`newId("model")`). */
const STORE_MODEL_ID = /^model_[0-9a-f]{12}$/;

/** What an `attempt-planned` entry says about the model the step reads. */
export function plannedInput(entry: Extract<JournalEntry, { type: "attempt-planned" }>): PlannedInput {
  const modelId = entry.parameters["modelId"];
  const flag = entry.argv.indexOf("--model");
  const path = flag >= 0 ? entry.argv[flag + 1] : undefined;
  const input = typeof modelId === "string" ? modelId : undefined;
  // The path is kept only when the input does not already say it: a store model id leads to its record.
  const keepPath = path !== undefined && path !== input && !(input !== undefined && STORE_MODEL_ID.test(input));
  return { attempt: entry.attempt, ...(input !== undefined ? { input } : {}), ...(keepPath ? { inputPath: path } : {}) };
}

/**
 * The index deltas one journal entry makes (none for most). `planned` holds each step's last
 * planned input (kept by the caller across entries); it is updated here.
 */
export function deltasOf(runId: string, entry: JournalEntry, planned: Map<string, PlannedInput>): IndexDelta[] {
  switch (entry.type) {
    case "run-started":
      return [{ k: "status", id: runId, at: entry.at, status: "running" }];
    case "run-finished":
      return [{ k: "status", id: runId, at: entry.at, status: entry.status, ...(entry.reason ? { reason: entry.reason } : {}) }];
    case "attempt-planned":
      planned.set(entry.step, plannedInput(entry));
      return [];
    case "attempt-finished": {
      const input = planned.get(entry.step);
      const fromPlan = input && input.attempt === entry.attempt ? { ...(input.input ? { input: input.input } : {}), ...(input.inputPath ? { inputPath: input.inputPath } : {}) } : {};
      const outputs = entry.outputs;
      const s: IndexedStep = {
        status: entry.status,
        at: entry.at,
        attempt: entry.attempt,
        ...fromPlan,
        ...(outputs ? outputsPart(outputs) : {}),
      };
      return [{ k: "step", id: runId, at: entry.at, step: entry.step, s }];
    }
    case "step-cached":
      return [
        {
          k: "step",
          id: runId,
          at: entry.at,
          step: entry.step,
          s: { status: "cached", at: entry.at, ...outputsPart(entry.outputs), fromRunId: entry.fromRunId },
        },
      ];
    case "step-skipped":
      return [{ k: "step", id: runId, at: entry.at, step: entry.step, s: { status: "skipped", at: entry.at } }];
    case "map-finished":
      // The map step itself (its elements, `step[i]`, have their own entries).
      return [{ k: "step", id: runId, at: entry.at, step: entry.step, s: { status: entry.status, at: entry.at } }];
    default:
      return [];
  }
}

interface FoldState {
  labels?: { at: number; value: RunLabels };
  status?: { at: number; status: IndexedRunStatus; reason?: string };
  startedAt?: number;
  endedAt?: number;
  steps: Map<string, IndexedStep>;
  /** A run whose only line so far is a `full` one: its summary as written (a compacted index is read without rebuilding it). */
  only?: { at: number; summary: RunSummary };
}

/** What the index keeps of a step's outputs: metrics (all of them, possibly none), model ids, `simulated` when set. */
function outputsPart(outputs: StepOutputs): Pick<IndexedStep, "metrics" | "models" | "simulated"> {
  return { metrics: outputs.metrics, ...(outputs.models.length ? { models: outputs.models.map((m) => m.id) } : {}), ...(outputs.simulated ? { simulated: true } : {}) };
}

/** Folds index lines (any order) into one summary per run that has its labels. */
export class SummaryFold {
  readonly #runs = new Map<string, FoldState>();
  /** Lines folded so far. */
  lines = 0;

  /** Folds one line. */
  add(delta: IndexDelta): void {
    this.lines += 1;
    let run = this.#runs.get(delta.id);
    if (!run) {
      if (delta.k === "full") {
        this.#runs.set(delta.id, { steps: new Map(), only: { at: delta.at, summary: delta.summary } });
        return;
      }
      run = { steps: new Map() };
      this.#runs.set(delta.id, run);
    }
    if (run.only) {
      const { at, summary } = run.only;
      delete run.only;
      apply(run, { k: "full", id: delta.id, at, summary });
    }
    apply(run, delta);
  }

  /** Ids of every run seen (with or without labels). */
  ids(): string[] {
    return [...this.#runs.keys()];
  }

  /** The summary of run `id`, or `undefined` when no line gave its labels. */
  summary(id: string): RunSummary | undefined {
    const run = this.#runs.get(id);
    if (run?.only) return run.only.summary;
    if (!run?.labels) return undefined;
    const labels = run.labels.value;
    const status = run.status ?? { at: Date.parse(labels.createdAt), status: "created" as const };
    const final = status.status !== "running" && status.status !== "created";
    return {
      ...labels,
      status: status.status,
      statusAt: status.at,
      ...(run.startedAt !== undefined ? { startedAt: run.startedAt } : {}),
      ...(final && run.endedAt !== undefined ? { endedAt: run.endedAt } : {}),
      ...(status.reason ? { reason: status.reason } : {}),
      steps: Object.fromEntries(run.steps),
    };
  }

  /** Every summary. */
  summaries(): RunSummary[] {
    return this.ids().flatMap((id) => this.summary(id) ?? []);
  }
}

/** Folds one line into a run's state (the latest `at` of each part wins). */
function apply(run: FoldState, delta: IndexDelta): void {
  const setStatus = (at: number, status: IndexedRunStatus, reason?: string) => {
    if (!run.status || at >= run.status.at) run.status = { at, status, ...(reason ? { reason } : {}) };
    if (status === "running" && (run.startedAt === undefined || at < run.startedAt)) run.startedAt = at;
    if (status !== "running" && status !== "created" && (run.endedAt === undefined || at > run.endedAt)) run.endedAt = at;
  };
  const setStep = (name: string, step: IndexedStep) => {
    const known = run.steps.get(name);
    if (!known || step.at >= known.at) run.steps.set(name, step);
  };
  switch (delta.k) {
    case "run":
      if (!run.labels || delta.at >= run.labels.at) run.labels = { at: delta.at, value: delta.run };
      break;
    case "status":
      setStatus(delta.at, delta.status, delta.reason);
      break;
    case "step":
      setStep(delta.step, delta.s);
      break;
    case "full": {
      const { status, statusAt, startedAt, endedAt, reason, steps, ...labels } = delta.summary;
      if (!run.labels || delta.at >= run.labels.at) run.labels = { at: delta.at, value: labels };
      if (startedAt !== undefined) setStatus(startedAt, "running");
      setStatus(statusAt, status, reason);
      if (endedAt !== undefined && (run.endedAt === undefined || endedAt > run.endedAt)) run.endedAt = endedAt;
      for (const [name, step] of Object.entries(steps)) setStep(name, step);
      break;
    }
  }
}

/** A run's summary from its record and journal (what the index holds for it, rebuilt). */
export function summarizeRun(record: RunRecord, entries: readonly JournalEntry[]): RunSummary {
  const fold = new SummaryFold();
  fold.add({ k: "run", id: record.id, at: Date.parse(record.createdAt), run: labelsOf(record) });
  const planned = new Map<string, PlannedInput>();
  for (const entry of entries) for (const delta of deltasOf(record.id, entry, planned)) fold.add(delta);
  return fold.summary(record.id)!;
}

/** True for a status a run does not leave on its own. */
export function isFinalStatus(status: IndexedRunStatus): boolean {
  return status === "succeeded" || status === "failed" || status === "cancelled";
}

/**
 * Reading runs back from the store: state from the journal, shaped like a live run's result.
 *
 * @module
 */
import { MapSpecSchema, mapElements } from "../pipeline/map-spec.js";
import { type ReplayedRun, replayJournal } from "../runner/replay.js";
import type { RunResult, StepResult } from "../runner/run-types.js";
import type { JournalEntry, RunRecord } from "../store/records.js";
import type { Store } from "../store/store.js";

/** A run as stored: its record and its replayed journal. */
export interface StoredRun {
  record: RunRecord;
  replay: ReplayedRun;
  /** Step names in pipeline order; a map step's elements (`gen[0]` …) come just before it. */
  stepNames: string[];
  /** Map steps: their element step names and labels, in order. */
  maps: Map<string, Array<{ step: string; label: string }>>;
}

/** Loads a run and replays its journal (throws `RunNotFoundError`). */
export async function readRun(store: Store, runId: string): Promise<StoredRun> {
  const record = await store.getRun(runId);
  const entries = await store.readJournal(runId);
  const { stepNames, maps } = stepsOf(record, entries);
  const replay = replayJournal(entries, stepNames);
  return { record, replay, stepNames, maps };
}

/** The step names of a recorded pipeline, map elements included (expanded as the plan expands them). */
function stepsOf(record: RunRecord, entries: readonly JournalEntry[]): Pick<StoredRun, "stepNames" | "maps"> {
  const stepNames: string[] = [];
  const maps: StoredRun["maps"] = new Map();
  // A map with itemsFrom has the elements its journal says it made.
  const made = new Map(entries.flatMap((e) => (e.type === "map-expanded" ? [[e.step, e.items] as const] : [])));
  for (const step of (record.pipeline as { steps?: Array<{ name: string; map?: unknown }> }).steps ?? []) {
    const map = step.map === undefined ? undefined : MapSpecSchema.safeParse(step.map);
    if (map?.success) {
      const items = made.get(step.name);
      const elements = mapElements(step.name, items ? { items } : map.data).map((e) => ({ step: e.key, label: e.label }));
      maps.set(step.name, elements);
      stepNames.push(...elements.map((e) => e.step));
    }
    stepNames.push(step.name);
  }
  return { stepNames, maps };
}

/** The run's result as the journal tells it (`status` may be `running`). */
export function resultOf(store: Store, run: StoredRun): Omit<RunResult, "status"> & { status: RunResult["status"] | "running" } {
  const steps: Record<string, StepResult> = {};
  const models: RunResult["models"] = [];
  const metrics: RunResult["metrics"] = {};
  let simulated = false;
  const queues = new Map(((run.record.pipeline as { steps?: Array<{ name: string; executionQueue: string }> }).steps ?? []).map((s) => [s.name, s.executionQueue]));
  for (const [map, elements] of run.maps) for (const e of elements) queues.set(e.step, queues.get(map) ?? "");
  for (const name of run.stepNames) {
    const step = run.replay.steps.get(name)!;
    const last = step.attempts[step.attempts.length - 1];
    steps[name] = {
      name,
      status: step.status,
      queue: last?.queue ?? queues.get(name) ?? "",
      attempts: step.attempts.length,
      ...(last?.backendJobId ? { jobId: last.backendJobId } : {}),
      ...(last?.exitCode !== undefined ? { exitCode: last.exitCode } : {}),
      ...(step.reason ? { reason: step.reason } : {}),
      ...(last?.infrastructure !== undefined ? { infrastructure: last.infrastructure } : {}),
      ...(last?.submittedAt ? { queuedAt: last.submittedAt } : {}),
      ...(last?.startedAt ? { startedAt: last.startedAt } : {}),
      ...(last?.endedAt ? { endedAt: last.endedAt } : {}),
      ...(last?.startedAt && last.endedAt ? { durationMs: last.endedAt - last.startedAt } : {}),
      ...(step.outputs ? { outputs: step.outputs } : {}),
      ...(step.elements ? { elements: step.elements } : {}),
    };
    if (step.outputs) {
      models.push(...step.outputs.models.map((m) => ({ ...m, step: name })));
      if (Object.keys(step.outputs.metrics).length > 0) metrics[name] = step.outputs.metrics;
      simulated ||= step.outputs.simulated;
    }
  }
  return {
    runId: run.record.id,
    projectName: run.record.projectName,
    pipelineName: run.record.pipelineName,
    status: run.replay.status,
    steps,
    models,
    metrics,
    simulated,
    startedAt: run.replay.startedAt ?? Date.parse(run.record.createdAt),
    endedAt: run.replay.endedAt ?? Date.now(),
    store: store.location,
    ...(run.replay.reason !== undefined ? { reason: run.replay.reason } : {}),
  };
}

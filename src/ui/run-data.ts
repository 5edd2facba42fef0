/**
 * What the dashboard shows of one run: its steps' states (map elements folded into their map
 * step, with counts), the DAG's edges, and one step's attempts. Read from the store's journal.
 *
 * @module
 */
import { readRun, resultOf } from "../api/run-status.js";
import { drawnParents } from "../pipeline/drawn-parents.js";
import type { StepSpec } from "../pipeline/pipeline-spec.js";
import type { Store } from "../store/store.js";

/** A node of the run's DAG as the page draws it. */
export interface UiNode {
  name: string;
  status: string;
  parents: string[];
  /** A map step: how many elements, by state. */
  elements?: { total: number; counts: Record<string, number> };
  attempts: number;
  reason?: string;
}

/** One run for the run page. */
export interface UiRun {
  id: string;
  name?: string;
  project: string;
  pipeline: string;
  status: string;
  reason?: string;
  startedAt: number;
  endedAt: number;
  nodes: UiNode[];
}

/** Reads a run for the run page (throws `RunNotFoundError`). */
export async function uiRun(store: Store, runId: string): Promise<UiRun> {
  const stored = await readRun(store, runId);
  const result = resultOf(store, stored);
  const specs = ((stored.record.pipeline as { steps?: StepSpec[] }).steps ?? []) as StepSpec[];
  const nodes: UiNode[] = specs.map((spec) => {
    const step = result.steps[spec.name];
    const node: UiNode = { name: spec.name, status: step?.status ?? "pending", parents: drawnParents(spec), attempts: step?.attempts ?? 0 };
    if (step?.reason) node.reason = step.reason;
    const elements = stored.maps.get(spec.name);
    if (elements) {
      const counts: Record<string, number> = {};
      for (const e of elements) {
        const s = result.steps[e.step]?.status ?? "pending";
        counts[s] = (counts[s] ?? 0) + 1;
      }
      node.elements = { total: elements.length, counts };
      if (node.status === "pending" && (counts["running"] ?? 0) > 0) node.status = "running";
    }
    return node;
  });
  return {
    id: stored.record.id,
    ...(stored.record.name !== undefined ? { name: stored.record.name } : {}),
    project: stored.record.projectName,
    pipeline: stored.record.pipelineName,
    status: result.status,
    ...(result.reason !== undefined ? { reason: result.reason } : {}),
    startedAt: result.startedAt,
    endedAt: result.endedAt,
    nodes,
  };
}

/** One step for the step page: its state, attempts (command, parameters, outputs), elements. */
export async function uiStep(store: Store, runId: string, name: string): Promise<Record<string, unknown> | undefined> {
  const stored = await readRun(store, runId);
  const step = stored.replay.steps.get(name);
  if (!step) return undefined;
  return {
    run: runId,
    name,
    status: step.status,
    ...(step.reason ? { reason: step.reason } : {}),
    attempts: step.attempts.map((a) => ({
      attempt: a.attempt,
      jobName: a.jobName,
      queue: a.queue,
      argv: a.argv,
      parameters: a.parameters,
      status: a.status ?? (a.startedAt ? "running" : "queued"),
      ...(a.exitCode !== undefined ? { exitCode: a.exitCode } : {}),
      ...(a.reason ? { reason: a.reason } : {}),
      ...(a.startedAt ? { startedAt: a.startedAt } : {}),
      ...(a.endedAt ? { endedAt: a.endedAt } : {}),
      ...(a.outputs ? { outputs: a.outputs } : {}),
    })),
    elements: (stored.maps.get(name) ?? []).map((e) => ({ step: e.step, label: e.label, status: stored.replay.steps.get(e.step)?.status ?? "pending" })),
  };
}

/** Whether `name` is a step (or map element) of the run: the only names a log path may use. */
export async function isStepOf(store: Store, runId: string, name: string): Promise<boolean> {
  return (await readRun(store, runId)).stepNames.includes(name);
}

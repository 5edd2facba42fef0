/**
 * What the dashboard shows of one run: its steps' states (map elements folded into their map
 * step, with counts), the DAG's edges, and one step's attempts. Read from the store's journal.
 *
 * @module
 */
import { readRun, resultOf } from "../api/run-status.js";
import { shellJoin } from "../args/shell-quote.js";
import { drawnParents } from "../pipeline/drawn-parents.js";
import type { StepSpec } from "../pipeline/pipeline-spec.js";
import { redactEnv } from "../store/redact.js";
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
  /** When it was first queued and started, and when its last attempt ended (ms; a map step: over its elements). */
  queuedAt?: number;
  startedAt?: number;
  endedAt?: number;
}

/** A step's span in the journal: first submission, first start, last end. */
function span(attempts: ReadonlyArray<{ submittedAt?: number; startedAt?: number; endedAt?: number }>): Pick<UiNode, "queuedAt" | "startedAt" | "endedAt"> {
  const pick = (values: Array<number | undefined>, f: (...n: number[]) => number) => {
    const known = values.filter((v): v is number => v !== undefined && v > 0);
    return known.length ? f(...known) : undefined;
  };
  const queuedAt = pick(
    attempts.map((a) => a.submittedAt),
    Math.min,
  );
  const startedAt = pick(
    attempts.map((a) => a.startedAt),
    Math.min,
  );
  const endedAt = pick(
    attempts.map((a) => a.endedAt),
    Math.max,
  );
  return { ...(queuedAt !== undefined ? { queuedAt } : {}), ...(startedAt !== undefined ? { startedAt } : {}), ...(endedAt !== undefined ? { endedAt } : {}) };
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
    const attempts = elements ? elements.flatMap((e) => stored.replay.steps.get(e.step)?.attempts ?? []) : (stored.replay.steps.get(spec.name)?.attempts ?? []);
    Object.assign(node, span(attempts));
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

/**
 * One step for the step page: its state, attempts (the command as run and as one shell line, its
 * environment — secret-looking names' values as `***` — and the names of the secret variables it
 * was given, never their values; parameters, outputs), elements.
 */
export async function uiStep(store: Store, runId: string, name: string): Promise<Record<string, unknown> | undefined> {
  const stored = await readRun(store, runId);
  const step = stored.replay.steps.get(name);
  if (!step) return undefined;
  const required = ((stored.record.clusterConfig as { requiredEnv?: unknown } | undefined)?.requiredEnv ?? []) as unknown[];
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
      commandLine: shellJoin(a.argv),
      env: redactEnv(stringRecord(a.parameters["env"])),
      secretEnv: [...new Set([...required, ...(Array.isArray(a.parameters["secretEnv"]) ? a.parameters["secretEnv"] : [])].filter((n): n is string => typeof n === "string"))],
      parameters: withoutEnv(a.parameters),
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

/** The string values of a recorded `env` option. */
function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string"));
}

/** Task parameters without `env` (shown redacted on its own). */
function withoutEnv(parameters: Record<string, unknown>): Record<string, unknown> {
  const { env: _env, ...rest } = parameters;
  return rest;
}

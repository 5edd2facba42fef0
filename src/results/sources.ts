/**
 * A result ref (see `refs.ts`) resolved to what compare and reports read: a label, the parameters
 * that describe it, and the evaluations — steps with results — that belong to it.
 *
 * - a run: its lm-eval steps when it has any, else every step with metrics;
 * - `tag:<tag>` or `name:<name>`: every run with that tag or name, pooled (repeated seeds run as
 *   runs of one name or tag);
 * - `run:step`: that step, or a map step's elements;
 * - a model the store made (id, id prefix, name): every evaluation, in any run, given that model
 *   (by store id or by its path) — a step with metrics that made no model and is no compression
 *   or generation;
 * - any other text: every evaluation given a model by that path or hub name (e.g. a base model).
 *
 * @module
 */
import { RefError, RunNotFoundError } from "../errors.js";
import type { ModelRecord } from "../store/records.js";
import type { RunSummary, Scalar } from "../store/run-summary.js";
import type { Store } from "../store/store.js";
import { findModel, matchSteps, resolveRun, splitStepRef } from "./refs.js";
import { hasOutputs, isEvaluation, loadRunResults, type StepResult } from "./step-results.js";

/** A resolved result ref. */
export interface Source {
  /** The ref as given. */
  ref: string;
  kind: "run" | "step" | "model";
  /** A short label for a column header: run name or id, `run:step`, model name. */
  label: string;
  /** What describes it: pipeline parameters, task parameters (`step.key` for a whole run). */
  params: Record<string, Scalar>;
  /** Steps with results (outputs): runs oldest first, each in pipeline order. */
  evaluations: Array<StepResult & { outputs: NonNullable<StepResult["outputs"]> }>;
  /** The run, for run and step refs. */
  run?: RunSummary;
  /** The store model, for a model ref. */
  model?: ModelRecord;
  /** A `tag:`/`name:` ref: the runs it pooled. */
  runs?: RunSummary[];
}

/** What resolving reads once for several refs. */
export interface SourceContext {
  store: Store;
  summaries: readonly RunSummary[];
  models: readonly ModelRecord[];
}

/** Resolves one ref (throws {@link RefError} when it names nothing). */
export async function resolveSource(context: SourceContext, ref: string): Promise<Source> {
  const group = /^(tag|name):(.+)$/.exec(ref);
  if (group) {
    const [, kind, value] = group as unknown as [string, "tag" | "name", string];
    const runs = context.summaries.filter((s) => (kind === "tag" ? s.tags.includes(value) : s.name === value)).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    if (runs.length === 0) throw new RefError(ref, `no run has ${kind} "${value}"`);
    const parts: Source[] = [];
    for (const run of runs) parts.push(await resolveSource(context, run.id));
    const params: Record<string, Scalar> = {};
    for (const [key, v] of Object.entries(parts[0]!.params)) if (parts.every((p) => p.params[key] === v)) params[key] = v;
    return { ref, kind: "run", label: value, params, evaluations: parts.flatMap((p) => p.evaluations), runs };
  }
  const stepRef = splitStepRef(ref);
  if (stepRef) {
    const run = tryRun(context.summaries, stepRef.run);
    if (run) {
      const names = matchSteps(run, stepRef.step);
      if (names.length === 0) throw new RefError(ref, `run ${run.id} has no step "${stepRef.step}" that ended (steps: ${Object.keys(run.steps).join(", ") || "none yet"})`);
      const results = await loadRunResults(context.store, run.id);
      const evaluations = results.steps.filter((s) => names.includes(s.step)).filter(hasOutputs);
      const first = results.steps.find((s) => names.includes(s.step));
      return { ref, kind: "step", label: `${run.name ?? run.id}:${stepRef.step}`, params: { ...run.params, ...flatParams(first?.parameters) }, evaluations, run };
    }
  }
  const run = tryRun(context.summaries, ref);
  if (run) {
    const results = await loadRunResults(context.store, run.id);
    const withOutputs = results.steps.filter(hasOutputs);
    const evals = withOutputs.filter((s) => s.task?.type === "lm-eval");
    const evaluations = evals.length > 0 ? evals : withOutputs.filter((s) => Object.keys(s.outputs.metrics).length > 0);
    const params: Record<string, Scalar> = { ...run.params };
    for (const step of results.steps) for (const [k, v] of Object.entries(flatParams(step.parameters))) params[`${step.step}.${k}`] = v;
    return { ref, kind: "run", label: run.name ?? run.id, params, evaluations, run };
  }
  const model = findModel(context.models, ref);
  const evaluations = await evaluationsOf(context, model ? { id: model.id, path: model.path } : { path: ref });
  if (!model && evaluations.length === 0) {
    throw new RefError(ref, `"${ref}" names no run (id, id prefix or name), no run:step, no store model, and no evaluation was given a model by that path or name`);
  }
  const params: Record<string, Scalar> = {};
  if (model) {
    const producer = (await loadRunResults(context.store, model.runId).catch(() => undefined))?.steps.find((s) => s.step === model.step);
    Object.assign(params, flatParams(producer?.parameters), { "model.name": model.name, "model.framework": model.framework });
  }
  return { ref, kind: "model", label: model?.name ?? ref, params, evaluations, ...(model ? { model } : {}) };
}

/** Every evaluation (`isEvaluation`), in any run, that was given the model (`id`: its store id; `path`: where it lies or its hub name). */
export async function evaluationsOf(context: SourceContext, model: { id?: string; path: string }): Promise<Source["evaluations"]> {
  const given = (s: { input?: string; inputPath?: string }) => (model.id !== undefined && s.input === model.id) || s.inputPath === model.path || s.input === model.path;
  const runs = context.summaries
    .filter((summary) => Object.values(summary.steps).some((s) => given(s) && (s.status === "succeeded" || s.status === "cached")))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  const out: Source["evaluations"] = [];
  for (const run of runs) {
    const results = await loadRunResults(context.store, run.id).catch(() => undefined);
    for (const step of results?.steps ?? []) if (isEvaluation(step) && given(step)) out.push(step);
  }
  return out;
}

function tryRun(summaries: readonly RunSummary[], ref: string): RunSummary | undefined {
  try {
    return resolveRun(summaries, ref);
  } catch (error) {
    // A ref that names no run may be a model; an ambiguous id prefix is the user's to fix.
    if (error instanceof RunNotFoundError) return undefined;
    throw error;
  }
}

/** Task parameters as scalars: objects and arrays as JSON; secrets were never journaled. */
export function flatParams(parameters: Record<string, unknown> | undefined): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const [key, value] of Object.entries(parameters ?? {})) {
    if (value === undefined || value === null) continue;
    out[key] = typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? value : JSON.stringify(value);
  }
  return out;
}

/** Column labels made unique: a label shared by several sources gets its run id (or ref) after it. */
export function uniqueLabels(sources: ReadonlyArray<Pick<Source, "label" | "ref" | "run">>, labels: readonly string[] = sources.map((s) => s.label)): string[] {
  return labels.map((label, i) => {
    if (labels.filter((l) => l === label).length < 2) return label;
    const source = sources[i]!;
    const suffix = source.run && source.run.id !== label ? source.run.id : source.ref;
    return suffix === label ? `${label} #${i + 1}` : `${label} (${suffix})`;
  });
}

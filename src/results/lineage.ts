/**
 * The model registry with lineage: for each model the store recorded, the run, step and task
 * that produced it (and the recipe, for a compression), the model it was made from (its parent: a
 * store model, or the path or hub name the step was given), every evaluation measured on it with
 * its metrics, and where its files are.
 *
 * @module
 */
import { RefError } from "../errors.js";
import type { ModelRecord, StepOutputs } from "../store/records.js";
import type { RunSummary } from "../store/run-summary.js";
import type { Store } from "../store/store.js";
import { type MetricReduction, metricValues } from "./metric-values.js";
import { baseStep, findModel, resolveRun } from "./refs.js";
import { runSummaries } from "./run-summaries.js";
import { evaluationsOf } from "./sources.js";
import { loadRunResults } from "./step-results.js";

/** A model with the run it came from, its parent and how many evaluations measured it. */
export interface ModelRow {
  model: ModelRecord;
  run?: Pick<RunSummary, "id" | "name" | "projectName" | "pipelineName" | "tags" | "status">;
  /** What it was made from: a store model id, else a path or hub name. */
  parent?: string;
  /** Evaluations measured on it, in any run (steps given it that ended with metrics, made no model, and are no compression or generation). */
  evaluations: number;
}

/** Filters of {@link listModelRows}: all must hold. */
export interface ModelFilter {
  /** `pipelineName` or `projectName/pipelineName` of the producing run. */
  pipeline?: string;
  /** The producing run (id, id prefix or name). */
  run?: string;
  /** Model name: exact, or contains with `~name`. */
  name?: string;
  /** A tag of the producing run. */
  tag?: string;
}

/** Every store model with its lineage in brief, oldest first. */
export async function listModelRows(store: Store, filter: ModelFilter = {}, read?: { summaries: readonly RunSummary[]; models: readonly ModelRecord[] }): Promise<ModelRow[]> {
  const summaries = read?.summaries ?? (await runSummaries(store));
  const models = [...(read?.models ?? (await store.listModels()))].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  const byId = new Map(summaries.map((s) => [s.id, s]));
  const runId = filter.run !== undefined ? resolveRun(summaries, filter.run).id : undefined;
  // Which models each ended step was given: one pass over the index.
  const given = new Map<string, number>();
  for (const summary of summaries) {
    for (const [name, step] of Object.entries(summary.steps)) {
      const type = summary.stepTypes?.[baseStep(name)];
      // An evaluation (as isEvaluation says): metrics, no model made, not a compression or a generation.
      if (
        (step.status !== "succeeded" && step.status !== "cached") ||
        (step.models?.length ?? 0) > 0 ||
        Object.keys(step.metrics ?? {}).length === 0 ||
        type === "llm-compressor" ||
        type === "generate"
      )
        continue;
      for (const key of new Set([step.input, step.inputPath].filter((k): k is string => k !== undefined))) given.set(key, (given.get(key) ?? 0) + 1);
    }
  }
  const rows: ModelRow[] = [];
  for (const model of models) {
    const run = byId.get(model.runId);
    if (runId !== undefined && model.runId !== runId) continue;
    if (filter.pipeline !== undefined && (!run || (filter.pipeline !== run.pipelineName && filter.pipeline !== `${run.projectName}/${run.pipelineName}`))) continue;
    if (filter.tag !== undefined && !run?.tags.includes(filter.tag)) continue;
    if (filter.name !== undefined && !(filter.name.startsWith("~") ? model.name.includes(filter.name.slice(1)) : model.name === filter.name)) continue;
    const producer = run?.steps[model.step];
    const parent = producer?.input ?? producer?.inputPath;
    const evaluations = Math.max(given.get(model.id) ?? 0, given.get(model.path) ?? 0);
    rows.push({
      model,
      ...(run ? { run: { id: run.id, ...(run.name ? { name: run.name } : {}), projectName: run.projectName, pipelineName: run.pipelineName, tags: run.tags, status: run.status } } : {}),
      ...(parent !== undefined ? { parent } : {}),
      evaluations,
    });
  }
  return rows;
}

/** One model's whole lineage. */
export interface ModelLineage {
  model: ModelRecord;
  run?: ModelRow["run"];
  /** The step that produced it. */
  producer?: {
    step: string;
    attempt: number;
    task?: { id: string; type: string; taskName: string };
    /** A compression's recipe: the config it named, and the recipe text it ran. */
    recipe?: { config?: string; text?: string };
    parameters?: Record<string, unknown>;
    queue?: string;
    command?: string[];
  };
  /** What it was made from. */
  parent?: { ref: string; model?: ModelRecord; path?: string };
  /** Every evaluation measured on it (any run), oldest first. */
  evaluations: Array<{ runId: string; runName?: string; step: string; at: number; metrics: Record<string, number>; simulated: boolean }>;
  /** Where its files are, and the other files its step made. */
  files: { path: string; cluster: string; artifacts: StepOutputs["artifacts"] };
}

/** The lineage of model `ref` (id, unique id prefix, or name; throws {@link RefError}). */
export async function modelLineage(store: Store, ref: string, options: { reduce?: MetricReduction } = {}): Promise<ModelLineage> {
  const [summaries, models] = [await runSummaries(store), await store.listModels()];
  const model = findModel(models, ref);
  if (!model) throw new RefError(ref, `no model "${ref}" in the store (give a model id, a unique id prefix or a model name; \`gpu-dag models\` lists them)`);
  const [row] = await listModelRows(store, {}, { summaries, models: [model] });
  const results = await loadRunResults(store, model.runId).catch(() => undefined);
  const made = results?.steps.find((s) => s.step === model.step);
  const recipeAt = made?.argv?.indexOf("--recipe-yaml") ?? -1;
  const config = made?.parameters?.["config"];
  const recipe =
    made?.task?.type === "llm-compressor"
      ? { ...(typeof config === "string" ? { config } : {}), ...(recipeAt >= 0 && made.argv?.[recipeAt + 1] !== undefined ? { text: made.argv[recipeAt + 1]! } : {}) }
      : undefined;
  const parentRef = made?.input ?? made?.inputPath;
  const parentModel = parentRef !== undefined ? models.find((m) => m.id === parentRef) : undefined;
  const evaluations = await evaluationsOf({ store, summaries, models }, { id: model.id, path: model.path });
  const artifacts = made?.outputs?.artifacts ?? [];
  return {
    model,
    ...(row?.run ? { run: row.run } : {}),
    ...(made
      ? {
          producer: {
            step: made.step,
            attempt: made.attempt ?? model.attempt,
            ...(made.task ? { task: { id: made.task.id, type: made.task.type, taskName: made.task.taskName } } : {}),
            ...(recipe ? { recipe } : {}),
            ...(made.parameters ? { parameters: made.parameters } : {}),
            ...(made.queue ? { queue: made.queue } : {}),
            ...(made.argv ? { command: made.argv } : {}),
          },
        }
      : {}),
    ...(parentRef !== undefined
      ? { parent: { ref: parentRef, ...(parentModel ? { model: parentModel } : {}), ...(made?.inputPath && made.inputPath !== parentRef ? { path: made.inputPath } : {}) } }
      : {}),
    evaluations: evaluations.map((e) => ({
      runId: e.runId,
      ...(e.runName ? { runName: e.runName } : {}),
      step: e.step,
      at: e.at,
      metrics: metricValues(e.outputs, options.reduce),
      simulated: e.outputs.simulated,
    })),
    files: { path: model.path, cluster: model.cluster, artifacts },
  };
}

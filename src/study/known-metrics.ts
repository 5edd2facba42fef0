/**
 * Metric names steps produced before: what the objective's check compares its metric names to.
 * Read from the journals of the latest runs of the same pipeline (project and pipeline name) in
 * the store: the metrics of each step's recorded successes and cache reuses.
 *
 * @module
 */
import type { PipelineSpec } from "../pipeline/pipeline-spec.js";
import type { Store } from "../store/store.js";

/** How many of the pipeline's latest runs are read. */
const RUNS_READ = 20;

/** What step `step` reported in the newest run that recorded metrics for it. */
export interface KnownMetrics {
  runId: string;
  metrics: ReadonlySet<string>;
}

/** Known metric names of `steps`, by step; a step with no recorded metrics is absent. */
export async function knownMetrics(store: Store, pipeline: Pick<PipelineSpec, "projectName" | "pipelineName">, steps: readonly string[]): Promise<Map<string, KnownMetrics>> {
  const out = new Map<string, KnownMetrics>();
  if (steps.length === 0) return out;
  const runs = (await store.listRuns())
    .filter((r) => r.projectName === pipeline.projectName && r.pipelineName === pipeline.pipelineName)
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
    .slice(0, RUNS_READ);
  for (const run of runs) {
    const entries = await store.readJournal(run.id).catch(() => []);
    for (const entry of entries) {
      if (entry.type !== "attempt-finished" && entry.type !== "step-cached") continue;
      const metrics = entry.outputs?.metrics;
      if (!metrics || out.has(entry.step) || !steps.includes(entry.step) || Object.keys(metrics).length === 0) continue;
      out.set(entry.step, { runId: run.id, metrics: new Set(Object.keys(metrics)) });
    }
    if (steps.every((s) => out.has(s))) break;
  }
  return out;
}

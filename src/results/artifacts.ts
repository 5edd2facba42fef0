/**
 * What a run's steps produced, with paths: `gpu-dag artifacts <run> [step]`. Read from the run's
 * journal (the outputs each ended step recorded), so it costs one run's files, not the store's.
 *
 * @module
 */
import { RefError } from "../errors.js";
import type { Store } from "../store/store.js";
import { matchSteps, resolveRun } from "./refs.js";
import { runSummaries } from "./run-summaries.js";
import { hasOutputs, loadRunResults } from "./step-results.js";

/** One produced file or model. */
export interface ArtifactRow {
  runId: string;
  step: string;
  kind: "artifact" | "model";
  id: string;
  name: string;
  path: string;
  /** Cluster (config name) whose filesystem `path` is on. */
  cluster: string;
  /** A cached step: the run that made the files. */
  fromRunId?: string;
  simulated: boolean;
}

/** The artifacts and models of run `runRef` (id, prefix or name), of one step (or map step) when given. */
export async function listArtifacts(store: Store, runRef: string, step?: string): Promise<ArtifactRow[]> {
  const run = resolveRun(await runSummaries(store), runRef);
  const names = step !== undefined ? matchSteps(run, step) : undefined;
  if (names && names.length === 0) throw new RefError(`${runRef}:${step}`, `run ${run.id} has no step "${step}" that ended (steps: ${Object.keys(run.steps).join(", ") || "none yet"})`);
  const results = await loadRunResults(store, run.id);
  const rows: ArtifactRow[] = [];
  for (const s of results.steps.filter(hasOutputs)) {
    if (names && !names.includes(s.step)) continue;
    const common = { runId: run.id, step: s.step, cluster: results.record.cluster.name, simulated: s.outputs.simulated, ...(s.fromRunId ? { fromRunId: s.fromRunId } : {}) };
    for (const m of s.outputs.models) rows.push({ ...common, kind: "model", id: m.id, name: m.name, path: m.path });
    for (const a of s.outputs.artifacts) rows.push({ ...common, kind: "artifact", id: a.id, name: a.name, path: a.path });
  }
  return rows;
}

/**
 * A finished attempt's outputs manifest → store records (models and artifacts get ids).
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import type { OutputsManifest } from "../manifest/outputs-manifest.js";
import { newId } from "../store/ids.js";
import type { StepOutputs } from "../store/records.js";
import type { Store } from "../store/store.js";

/** Where the outputs came from. */
export interface OutputsOrigin {
  runId: string;
  step: string;
  attempt: number;
  cluster: string;
  /** The attempt directory as the job saw it; relative manifest paths are relative to it. */
  jobDir: string;
}

/** Stores the manifest's models and artifacts and returns the step's outputs with their ids. */
export async function recordOutputs(store: Store, manifest: OutputsManifest, origin: OutputsOrigin): Promise<StepOutputs> {
  const createdAt = new Date().toISOString();
  const where = (path: string) => (isAbsolute(path) ? path : join(origin.jobDir, path));
  const models = manifest.models.map((m) => ({ id: newId("model"), name: m.name, path: where(m.path), framework: m.framework }));
  const artifacts = manifest.artifacts.map((a) => ({ id: newId("artifact"), name: a.name, path: where(a.path) }));
  const common = { cluster: origin.cluster, runId: origin.runId, step: origin.step, attempt: origin.attempt, createdAt };
  await Promise.all([...models.map((m) => store.putModel({ ...m, ...common, simulated: manifest.simulated })), ...artifacts.map((a) => store.putArtifact({ ...a, ...common }))]);
  return {
    models,
    artifacts,
    metrics: manifest.metrics,
    ...(manifest.series ? { series: manifest.series } : {}),
    ...(manifest.groups ? { groups: manifest.groups } : {}),
    simulated: manifest.simulated,
  };
}

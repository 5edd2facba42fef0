/**
 * Submitting a study: the checks of `check-study.ts`, then the pipeline planned as a run would be
 * (`planRun`: cluster config, queues, placeholders, secrets) with each value of each searched
 * parameter and each rung budget — every problem before the first trial — and the study recorded
 * (`study.json`). Nothing runs.
 *
 * @module
 */
import { type ClusterConfigInput, planRun } from "../api/plan-run.js";
import { findClusterConfigFile } from "../config/load-cluster-config.js";
import { PipelineDefinition } from "../pipeline/pipeline-definition.js";
import type { PipelineSpec } from "../pipeline/pipeline-spec.js";
import type { Store } from "../store/store.js";
import { checkStudy } from "./check-study.js";
import { drawValue, seededRandom, type TrialParams } from "./space.js";
import { newStudyId } from "./study-events.js";
import { type StudyRecord, writeStudyRecord } from "./study-files.js";
import type { StudySpec } from "./study-spec.js";

/** Where a study runs and is recorded. */
export interface SubmitStudyOptions {
  store: Store;
  home: string;
  cluster?: string | ClusterConfigInput;
  configDir?: string;
  runtime?: "real" | "simulate";
  /** Study id (default: generated). */
  id?: string;
}

/** How many parameter sets the pipeline is planned with at most. */
const MAX_PLANS = 32;

/** Checks and records the study; returns its record. Throws (recording nothing) on any problem. */
export async function submitStudy(spec: StudySpec, pipeline: PipelineSpec, options: SubmitStudyOptions): Promise<StudyRecord> {
  const id = options.id ?? newStudyId();
  // A config name is resolved to its file now: a resume from another directory finds the same one.
  const cluster = typeof options.cluster === "string" ? (findClusterConfigFile(options.cluster, options.configDir ? { configDir: options.configDir } : {}) ?? options.cluster) : options.cluster;
  const where = `study ${spec.name ? `"${spec.name}"` : id}`;
  const { configurations } = await checkStudy(spec, pipeline, options.store, where);
  const definition = PipelineDefinition.fromSpec(pipeline, `${where} pipeline`);
  for (const parameters of planningSets(spec, configurations)) {
    await planRun(definition, {
      store: options.store,
      home: options.home,
      parameters,
      ...(cluster !== undefined ? { cluster } : {}),
    });
  }
  const record: StudyRecord = {
    id,
    createdAt: new Date().toISOString(),
    spec,
    pipeline,
    ...(cluster !== undefined ? { cluster: cluster as StudyRecord["cluster"] } : {}),
    ...(options.runtime ? { runtime: options.runtime } : {}),
  };
  await writeStudyRecord(options.home, record);
  return record;
}

/**
 * Parameter sets that between them hold every value a trial may get: the first configuration,
 * then it with each other grid value of each axis (a range: its ends and a draw), and each rung
 * budget. At most {@link MAX_PLANS}.
 */
function planningSets(spec: StudySpec, configurations: readonly TrialParams[]): Array<Record<string, string | number | boolean>> {
  const first = configurations[0];
  if (!first) return [];
  const halving = spec.halving;
  const base = { ...spec.fixed, ...first, ...(halving ? { [halving.parameter]: halving.rungs[0]! } : {}) };
  const sets = new Map<string, Record<string, string | number | boolean>>([[JSON.stringify(base), base]]);
  const add = (name: string, value: string | number | boolean) => {
    const set = { ...base, [name]: value };
    sets.set(JSON.stringify(set), set);
  };
  const random = seededRandom(spec.seed);
  for (const [name, space] of Object.entries(spec.parameters)) {
    const values = "values" in space ? space.values : "int" in space ? [space.int.min, space.int.max, drawValue(space, random)] : [space.float.min, space.float.max, drawValue(space, random)];
    for (const value of values) add(name, value);
  }
  for (const budget of halving?.rungs ?? []) add(halving!.parameter, budget);
  for (const config of configurations) sets.set(JSON.stringify({ ...base, ...config }), { ...base, ...config });
  return [...sets.values()].slice(0, MAX_PLANS);
}

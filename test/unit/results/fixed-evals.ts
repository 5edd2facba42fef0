/**
 * Runs whose evaluations report numbers chosen by the test (so reports can be checked against
 * values computed by hand): a custom task whose job writes the outputs manifest it is given.
 */
import { Pipeline } from "../../../src/api/pipeline.js";
import type { FileStore } from "../../../src/store/file-store.js";
import { Task } from "../../../src/tasks/custom-task.js";
import { localCluster } from "../helpers.js";

/** The job: writes argv[1] (a manifest as JSON) to `$GPU_DAG_OUTPUT_DIR/outputs.json`. */
const WRITE_MANIFEST = 'require("node:fs").writeFileSync(process.env.GPU_DAG_OUTPUT_DIR + "/outputs.json", process.argv[1])';

/** A manifest's parts the tests set. */
export interface FixedManifest {
  metrics?: Record<string, number>;
  series?: Record<string, Array<{ iteration: number; value: number }>>;
  models?: Array<{ name: string; path: string }>;
}

/**
 * Runs a pipeline with one step per entry of `steps` (step name → manifest), each reporting its
 * manifest; returns the run id.
 */
export async function runFixed(
  store: FileStore,
  options: { name?: string; tags?: string[]; pipelineName?: string; steps: Record<string, FixedManifest>; parameters?: Record<string, string> },
): Promise<string> {
  const pipeline = new Pipeline({ projectName: "results-test", pipelineName: options.pipelineName ?? "fixed_eval" });
  for (const key of Object.keys(options.parameters ?? {})) pipeline.addParameter(key);
  for (const [step, manifest] of Object.entries(options.steps)) {
    const task = new Task({ projectName: "results-test", taskName: step, command: [process.execPath, "-e", WRITE_MANIFEST, "{manifest}"], parameters: { manifest: JSON.stringify(manifest) } });
    await task.createTask({ store });
    pipeline.addStep({ name: step, baseTaskId: task.id!, executionQueue: "cpu" });
  }
  const result = await pipeline.executeLocally({
    store,
    home: store.home,
    cluster: localCluster(),
    retryBackoffMs: 10,
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.tags ? { tags: options.tags } : {}),
    ...(options.parameters ? { parameters: options.parameters } : {}),
  });
  if (result.status !== "succeeded") throw new Error(`fixed run failed: ${JSON.stringify(result.steps)}`);
  return result.runId;
}

/** The job of a map element: writes the manifest `argv[1]` (JSON: seed → manifest) holds for seed `argv[2]`. */
const WRITE_SEED_MANIFEST = 'require("node:fs").writeFileSync(process.env.GPU_DAG_OUTPUT_DIR + "/outputs.json", JSON.stringify(JSON.parse(process.argv[1])[process.argv[2]]))';

/**
 * Runs a pipeline whose one step `step` is a map over `seed` (one element per manifest of
 * `bySeed`): element `step[i]` reports `bySeed[i]`. Returns the run id.
 */
export async function runSeedMap(store: FileStore, options: { name: string; step: string; bySeed: FixedManifest[] }): Promise<string> {
  const pipeline = new Pipeline({ projectName: "results-test", pipelineName: "seed_map" });
  const task = new Task({
    projectName: "results-test",
    taskName: options.step,
    command: [process.execPath, "-e", WRITE_SEED_MANIFEST, "{table}", "{seed}"],
    parameters: { table: JSON.stringify(options.bySeed), seed: 0 },
  });
  await task.createTask({ store });
  pipeline.addStep({ name: options.step, baseTaskId: task.id!, executionQueue: "cpu", map: { axes: { seed: options.bySeed.map((_, i) => i) } }, parameterOverride: { seed: "${item.seed}" } });
  const result = await pipeline.executeLocally({ store, home: store.home, cluster: localCluster(), retryBackoffMs: 10, name: options.name });
  if (result.status !== "succeeded") throw new Error(`seed map run failed: ${JSON.stringify(result.steps)}`);
  return result.runId;
}

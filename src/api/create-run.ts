/**
 * Creating a run: plan it ({@link planRun}: cluster config, every problem at once, secrets) and
 * record the run — pipeline, drafts, config and options —
 * so any controller, here or detached, can drive it from the store alone. Nothing is submitted.
 *
 * @module
 */
import type { QueueBackend } from "../backends/queue-backend.js";
import type { CodeConfig } from "../config/cluster-config.js";
import { ConfigError } from "../errors.js";
import type { PipelineDefinition } from "../pipeline/pipeline-definition.js";
import type { PipelinePlan } from "../pipeline/validate.js";
import { assertServicesQueue } from "../remote/services-queue.js";
import { defaultStore } from "../store/default-store.js";
import { FileStore } from "../store/file-store.js";
import { newRunId } from "../store/ids.js";
import { type RunRecord, runLabelProblem } from "../store/records.js";
import type { Store } from "../store/store.js";
import { type ClusterConfigInput, planRun } from "./plan-run.js";
import { resolveRunAfter } from "./run-after.js";
import { forgetRunSecrets, redactRunRecord } from "./run-secrets.js";

export type { ClusterConfigInput } from "./plan-run.js";

/** Options shared by everything that creates a run. */
export interface CreateRunOptions {
  /** Store (default: the file store at `GPU_DAG_HOME`). */
  store?: Store;
  /** Shorthand for a file store in this directory. */
  home?: string;
  /**
   * Cluster config: a name or path (looked up as documented), or a config object as written in
   * YAML (defaults filled in and validated here, e.g. `{ executor: "local", gpus: 2 }`). Default `local`.
   */
  cluster?: string | ClusterConfigInput;
  /** Directory of cluster configs (default `GPU_DAG_CONFIG_DIR`, then `./cluster_configs`). */
  configDir?: string;
  /** `simulate` runs stand-ins for the ML tools: for demos and machines without them. */
  runtime?: "real" | "simulate";
  /** Values for `${pipeline.x}`. */
  parameters?: Record<string, string | number | boolean>;
  /** Run id (default: generated). */
  runId?: string;
  /**
   * The run's name (default: the pipeline file's `run.name`). Names need not be unique: as a run
   * ref (`gpu-dag status <name>`, `runAfter`), a name means the newest run that has it.
   */
  name?: string;
  /** Tags, added to the pipeline file's `run.tags`. */
  tags?: readonly string[];
  /**
   * Runs (ids, unique id prefixes or names) that must succeed before this run's steps start,
   * added to the pipeline file's `run.runAfter`. One that fails or is cancelled fails this run.
   */
  runAfter?: readonly string[];
  /** Where the controller will run (recorded). */
  mode?: RunRecord["mode"];
  /** Backend used to validate queues instead of the config's (not needed normally). */
  backend?: QueueBackend;
  /** The user's code to ship to a Slurm cluster (a directory in a git repository, or `code` settings): over the config's `code`. */
  code?: string | Partial<CodeConfig>;
}

/** The store an options object names. */
export function storeFor(options: { store?: Store; home?: string }): Store {
  return options.store ?? (options.home ? new FileStore({ home: options.home }) : defaultStore());
}

/** Validates and records a run; returns its id and plan. */
export async function createRun(pipeline: PipelineDefinition, options: CreateRunOptions = {}): Promise<{ runId: string; store: Store; plan: PipelinePlan }> {
  const store = storeFor(options);
  const { plan, cluster } = await planRun(pipeline, { ...options, store });
  const { name: clusterName, source } = cluster;
  // The code the run ships, snapshot now (commit, dirty flag, content hash): recorded with the config.
  const config =
    options.code !== undefined || (cluster.config.executor === "slurm" && cluster.config.code)
      ? await (await import("../backends/slurm/code-snapshot.js")).withCodeSnapshot(cluster.config, options.code)
      : cluster.config;
  // A run whose controller will be a job on the cluster needs a queue for it: say so before anything is recorded.
  if (options.mode === "detached" && config.executor === "slurm") {
    assertServicesQueue(config, source.startsWith("builtin:") || source === "object" ? `"${clusterName}"` : `"${clusterName}" (${source})`, source.startsWith("/") ? source : undefined);
  }
  const runId = options.runId ?? newRunId();
  const labels = runLabels(pipeline, options);
  // Refs are resolved now (a name means the newest run with it at this moment): the record holds ids.
  if (labels.runAfter) labels.runAfter = await resolveRunAfter(store, labels.runAfter);
  const seen = new Set<string>();
  const tasks = [...plan.steps.values()].map((s) => s.task.toRecord()).filter((t) => !seen.has(t.id) && seen.add(t.id));
  // Secret-looking env values are recorded as "***"; the controller gets them back (run-secrets.ts).
  const record = redactRunRecord({
    id: runId,
    ...labels,
    projectName: pipeline.projectName,
    pipelineName: pipeline.pipelineName,
    createdAt: new Date().toISOString(),
    cluster: { name: clusterName, source },
    // The spec as planned: a task that fanned out (GenerateTask fanOut) is recorded as its steps.
    pipeline: plan.spec,
    tasks,
    mode: options.mode ?? "local",
    clusterConfig: config,
    options: { ...(options.runtime ? { runtime: options.runtime } : {}), parameters: options.parameters ?? {} },
  });
  try {
    await store.createRun(record);
  } catch (error) {
    forgetRunSecrets(runId);
    throw error;
  }
  return { runId, store, plan };
}

/** The run's name, tags and runAfter: the pipeline's `run` block, then the options; each checked. */
function runLabels(pipeline: PipelineDefinition, options: CreateRunOptions): Pick<RunRecord, "name" | "tags" | "runAfter"> {
  const fromSpec = pipeline.toSpec().run ?? {};
  const name = options.name ?? fromSpec.name;
  const tags = [...new Set([...(fromSpec.tags ?? []), ...(options.tags ?? [])])];
  const runAfter = [...new Set([...(fromSpec.runAfter ?? []), ...(options.runAfter ?? [])])];
  const check = (field: string, value: string) => {
    const problem = runLabelProblem(value);
    if (problem) throw new ConfigError(`run ${field} ${JSON.stringify(value)} is invalid: ${problem}`, { field: `run.${field}` });
  };
  if (name !== undefined) check("name", name);
  for (const tag of tags) check("tags", tag);
  for (const ref of runAfter)
    if (ref.trim() === "" || /[\s,]/.test(ref)) throw new ConfigError(`run runAfter ${JSON.stringify(ref)} is invalid: give a run id, id prefix or name`, { field: "run.runAfter" });
  return { ...(name !== undefined ? { name } : {}), ...(tags.length ? { tags } : {}), ...(runAfter.length ? { runAfter } : {}) };
}

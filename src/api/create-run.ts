/**
 * Creating a run: load the cluster config, validate the pipeline against it (every problem at
 * once), check secrets are available, and record the run — pipeline, drafts, config and options —
 * so any controller, here or detached, can drive it from the store alone. Nothing is submitted.
 *
 * @module
 */
import type { QueueBackend } from "../backends/queue-backend.js";
import type { z } from "zod";
import { ClusterConfigSchema } from "../config/cluster-config.js";
import { loadClusterConfig } from "../config/load-cluster-config.js";
import { validateWith } from "../config/yaml-schema.js";
import type { PipelineDefinition } from "../pipeline/pipeline-definition.js";
import type { PipelineSpec } from "../pipeline/pipeline-spec.js";
import type { PipelinePlan } from "../pipeline/validate.js";
import { defaultStore } from "../store/default-store.js";
import { FileStore } from "../store/file-store.js";
import { newRunId } from "../store/ids.js";
import type { RunRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { taskFromRecord } from "../tasks/registry.js";
import type { TaskDraft } from "../tasks/task-draft.js";
import { buildEnvironment } from "./build-environment.js";
import { forgetRunSecrets, redactRunRecord } from "./run-secrets.js";
import { assertServicesQueue } from "../remote/services-queue.js";

/** A cluster config as written (before defaults). */
export type ClusterConfigInput = z.input<typeof ClusterConfigSchema>;

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
  /** Where the controller will run (recorded). */
  mode?: RunRecord["mode"];
  /** Backend used to validate queues instead of the config's (not needed normally). */
  backend?: QueueBackend;
}

/** The store an options object names. */
export function storeFor(options: { store?: Store; home?: string }): Store {
  return options.store ?? (options.home ? new FileStore({ home: options.home }) : defaultStore());
}

/** Validates and records a run; returns its id and plan. */
export async function createRun(pipeline: PipelineDefinition, options: CreateRunOptions = {}): Promise<{ runId: string; store: Store; plan: PipelinePlan }> {
  const store = storeFor(options);
  const { name: clusterName, source, config } =
    typeof options.cluster === "object"
      ? { name: "custom", source: "object", config: validateWith(ClusterConfigSchema, options.cluster, "cluster option") }
      : await loadClusterConfig(options.cluster ?? "local", options.configDir ? { configDir: options.configDir } : {});
  // A run whose controller will be a job on the cluster needs a queue for it: say so before anything is recorded.
  if (options.mode === "detached" && config.executor === "slurm") {
    assertServicesQueue(config, source.startsWith("builtin:") || source === "object" ? `"${clusterName}"` : `"${clusterName}" (${source})`, source.startsWith("/") ? source : undefined);
  }
  // Only queue resolution and secrets are needed here: the backend itself is not started.
  const environment = await buildEnvironment(clusterName, config, { backend: options.backend ?? idleBackend, ...(options.home ? { home: options.home } : {}) });
  const inlineTasks = pipeline.toSpec().tasks; // one copy of the spec, not one per step (O(N²) at 10,000 steps)
  const plan = await pipeline.plan({
    loadTask: (id) => loadTask(pipeline, inlineTasks, id, store),
    checkQueue: (queue) => {
      const resolved = environment.resolveQueue(queue);
      return "error" in resolved ? resolved.error : undefined;
    },
  });
  environment.secrets([...plan.steps.values()].flatMap((s) => (s.task.options as { secretEnv?: string[] }).secretEnv ?? []));
  const runId = options.runId ?? newRunId();
  const seen = new Set<string>();
  const tasks = [...plan.steps.values()].map((s) => s.task.toRecord()).filter((t) => !seen.has(t.id) && seen.add(t.id));
  // Secret-looking env values are recorded as "***"; the controller gets them back (run-secrets.ts).
  const record = redactRunRecord({
    id: runId,
    projectName: pipeline.projectName,
    pipelineName: pipeline.pipelineName,
    createdAt: new Date().toISOString(),
    cluster: { name: clusterName, source },
    pipeline: pipeline.toSpec(),
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

/** A base task: an inline task of the pipeline file by key, else a stored draft by id. */
async function loadTask(pipeline: PipelineDefinition, inlineTasks: PipelineSpec["tasks"], id: string, store: Store): Promise<TaskDraft> {
  const inline = inlineTasks[id];
  if (!inline) return taskFromRecord(await store.getTask(id));
  const options = { projectName: pipeline.projectName, taskName: id, ...inline.options };
  return taskFromRecord({ id, type: inline.type, projectName: String(options.projectName), taskName: String(options.taskName), createdAt: "", options });
}

/** Validation needs no running backend; this one refuses to be used. */
const idleBackend: QueueBackend = {
  kind: "validation-only",
  submit: () => Promise.reject(new Error("validation-only backend")),
  poll: () => Promise.reject(new Error("validation-only backend")),
  onUpdate: () => () => undefined,
  cancel: () => Promise.resolve(),
  logs: () => Promise.resolve(""),
  collect: () => Promise.resolve(),
  adopt: () => Promise.reject(new Error("validation-only backend")),
  close: () => Promise.resolve(),
};

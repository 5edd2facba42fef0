/**
 * Planning a run: load the cluster config, build its environment (no backend is started),
 * validate the pipeline against it — every problem at once, including queues asking for more GPUs
 * than the local pool has and `modelFromStore` steps naming a model id the store does not have —
 * and check that every secret the steps need is set. `createRun()` records what this returns and the dry run prints it: one
 * path, so `run --dry-run` refuses exactly what a run refuses.
 *
 * @module
 */

import type { z } from "zod";
import type { QueueBackend } from "../backends/queue-backend.js";
import { type ClusterConfig, ClusterConfigSchema } from "../config/cluster-config.js";
import { loadClusterConfig } from "../config/load-cluster-config.js";
import { validateWith } from "../config/yaml-schema.js";
import type { PipelineDefinition } from "../pipeline/pipeline-definition.js";
import type { PipelineSpec } from "../pipeline/pipeline-spec.js";
import type { PipelinePlan } from "../pipeline/validate.js";
import type { ExecutionEnvironment } from "../runner/environment.js";
import type { Store } from "../store/store.js";
import { taskFromRecord } from "../tasks/registry.js";
import type { TaskDraft } from "../tasks/task-draft.js";
import { buildEnvironment } from "./build-environment.js";
import { localCapacityCheck } from "./local-capacity.js";

/** A cluster config as written (before defaults). */
export type ClusterConfigInput = z.input<typeof ClusterConfigSchema>;

/** What planning needs. */
export interface PlanRunOptions {
  store: Store;
  /** Store directory (for the default venv lookup). */
  home?: string;
  /** Cluster config name, path, or object as written in YAML. Default `local`. */
  cluster?: string | ClusterConfigInput;
  /** Directory of cluster configs. */
  configDir?: string;
  /** Values for `${pipeline.x}`: each must be declared. */
  parameters?: Readonly<Record<string, string | number | boolean>>;
  /** Backend used for queue checks instead of none (tests, custom backends). */
  backend?: QueueBackend;
}

/** A validated pipeline with the cluster it was validated against. */
export interface PlannedRun {
  plan: PipelinePlan;
  cluster: { name: string; source: string; config: ClusterConfig };
  environment: ExecutionEnvironment;
}

/** See the module comment. Throws, having submitted and written nothing, on any problem. */
export async function planRun(pipeline: PipelineDefinition, options: PlanRunOptions): Promise<PlannedRun> {
  const { name, source, config } =
    typeof options.cluster === "object"
      ? { name: "custom", source: "object", config: validateWith(ClusterConfigSchema, options.cluster, "cluster option") }
      : await loadClusterConfig(options.cluster ?? "local", options.configDir ? { configDir: options.configDir } : {});
  // Only queue resolution and secrets are needed here: the backend itself is not started.
  const environment = await buildEnvironment(name, config, { backend: options.backend ?? idleBackend, ...(options.home ? { home: options.home } : {}) });
  const capacity = config.executor === "local" ? localCapacityCheck(config) : undefined;
  const inlineTasks = pipeline.toSpec().tasks; // one copy of the spec, not one per step (O(N²) at 10,000 steps)
  const plan = await pipeline.plan({
    loadTask: oncePerId((id) => loadTask(pipeline, inlineTasks, id, options.store)),
    checkQueue: (queue) => {
      const resolved = environment.resolveQueue(queue);
      return "error" in resolved ? resolved.error : capacity?.(queue, resolved.resources);
    },
    ...(options.parameters ? { parameters: options.parameters } : {}),
    hasModel: async (id) => (await options.store.getModel(id).catch(() => undefined)) !== undefined,
  });
  // Throws naming the first unset secret.
  environment.secrets([...plan.steps.values()].flatMap((s) => (s.task.options as { secretEnv?: string[] }).secretEnv ?? []));
  return { plan, cluster: { name, source, config }, environment };
}

/**
 * `load` once per task id: steps sharing a base task share its draft (drafts are never mutated;
 * each attempt runs a clone). 10,000 steps of one stored task read and parsed it 10,000 times,
 * all at once, which was most of the controller's peak memory at that size (bench/scale.ts).
 */
export function oncePerId(load: (id: string) => Promise<TaskDraft>): (id: string) => Promise<TaskDraft> {
  const loaded = new Map<string, Promise<TaskDraft>>();
  return (id) => {
    let draft = loaded.get(id);
    if (!draft) {
      draft = load(id);
      loaded.set(id, draft);
    }
    return draft;
  };
}

/** A base task: an inline task of the pipeline file by key, else a stored draft by id. */
async function loadTask(pipeline: PipelineDefinition, inlineTasks: PipelineSpec["tasks"], id: string, store: Store): Promise<TaskDraft> {
  const inline = inlineTasks[id];
  if (!inline) return taskFromRecord(await store.getTask(id));
  const options = { projectName: pipeline.projectName, taskName: id, ...inline.options };
  return taskFromRecord({ id, type: inline.type, projectName: String(options.projectName), taskName: String(options.taskName), createdAt: "", options });
}

/** Planning needs no running backend; this one refuses to be used. */
const idleBackend: QueueBackend = {
  kind: "planning-only",
  submit: () => Promise.reject(new Error("planning only: nothing is submitted")),
  poll: () => Promise.reject(new Error("planning only: nothing is submitted")),
  onUpdate: () => () => undefined,
  cancel: () => Promise.resolve(),
  logs: () => Promise.resolve(""),
  collect: () => Promise.resolve(),
  adopt: () => Promise.reject(new Error("planning only: nothing is submitted")),
  close: () => Promise.resolve(),
};

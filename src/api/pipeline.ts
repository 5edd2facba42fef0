/**
 * `Pipeline`: the pipeline definition plus execution — `executeLocally()` runs the controller in
 * this process; each step still runs on its queue's backend.
 *
 * @module
 */
import type { QueueBackend } from "../backends/queue-backend.js";
import type { ClusterConfig } from "../config/cluster-config.js";
import { loadClusterConfig } from "../config/load-cluster-config.js";
import { NotImplementedError } from "../errors.js";
import { PipelineDefinition } from "../pipeline/pipeline-definition.js";
import type { PipelinePlan } from "../pipeline/validate.js";
import { RunController } from "../runner/run-controller.js";
import type { RunEventListener, RunResult } from "../runner/run-types.js";
import { defaultStore } from "../store/default-store.js";
import { FileStore } from "../store/file-store.js";
import { newRunId } from "../store/ids.js";
import type { Store } from "../store/store.js";
import { taskFromRecord } from "../tasks/registry.js";
import type { TaskDraft } from "../tasks/task-draft.js";
import { buildEnvironment } from "./build-environment.js";

/** Options of {@link Pipeline.executeLocally}. */
export interface ExecuteOptions {
  /** Store (default: the file store at `GPU_DAG_HOME`). */
  store?: Store;
  /** Shorthand for a file store in this directory. */
  home?: string;
  /** Cluster config: a name / path looked up as in the docs, or a config object. Default `local`. */
  cluster?: string | ClusterConfig;
  /** Directory of cluster configs (default `GPU_DAG_CONFIG_DIR`, then `./cluster_configs`). */
  configDir?: string;
  /** `simulate` runs stand-ins for the ML tools: for demos and machines without them. */
  runtime?: "real" | "simulate";
  /** Values for `${pipeline.x}`. */
  parameters?: Record<string, string | number | boolean>;
  /** Aborting cancels the run: running jobs are killed (process groups, `scancel`). */
  signal?: AbortSignal;
  /** Progress events. */
  onEvent?: RunEventListener;
  /** Use this backend instead of the config's (tests, custom backends). Not closed by the run. */
  backend?: QueueBackend;
  /** Run id (default: generated). */
  runId?: string;
  /** Base delay for retry backoff, ms. */
  retryBackoffMs?: number;
}

/** A pipeline: build it with `addStep()`, run it with `executeLocally()`. */
export class Pipeline extends PipelineDefinition {
  /**
   * Validates, records the run in the store, and runs the controller in this process until every
   * step has ended. Resolves with the run's result (a failed run resolves too: check `status`).
   * Rejects, with nothing submitted, when the pipeline or the config is invalid.
   */
  async executeLocally(options: ExecuteOptions = {}): Promise<RunResult> {
    const store = options.store ?? (options.home ? new FileStore({ home: options.home }) : defaultStore());
    const { name: clusterName, source, config } =
      typeof options.cluster === "object"
        ? { name: "custom", source: "object", config: options.cluster }
        : await loadClusterConfig(options.cluster ?? "local", options.configDir ? { configDir: options.configDir } : {});
    const environment = await buildEnvironment(clusterName, config, {
      ...(options.backend ? { backend: options.backend } : {}),
      ...(options.home ? { home: options.home } : {}),
    });
    try {
      const plan = await this.plan({
        loadTask: (id) => this.#loadTask(id, store),
        checkQueue: (queue) => {
          const resolved = environment.resolveQueue(queue);
          return "error" in resolved ? resolved.error : undefined;
        },
      });
      checkSecrets(plan, environment.secrets);
      const runId = options.runId ?? newRunId();
      await store.createRun({
        id: runId,
        projectName: this.projectName,
        pipelineName: this.pipelineName,
        createdAt: new Date().toISOString(),
        cluster: { name: clusterName, source },
        pipeline: this.toSpec(),
        tasks: [...plan.steps.values()].map((s) => s.task.toRecord()),
        mode: "local",
      });
      const controller = new RunController({
        runId,
        plan,
        store,
        environment,
        ...(options.runtime ? { runtime: options.runtime } : {}),
        ...(options.parameters ? { parameters: options.parameters } : {}),
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.retryBackoffMs !== undefined ? { retryBackoffMs: options.retryBackoffMs } : {}),
      });
      await controller.start();
      return await controller.done;
    } finally {
      if (!options.backend) await environment.backend.close();
    }
  }

  /**
   * Runs the controller away from this process (a detached daemon locally, a job on the Slurm
   * `services` queue). Not built yet: use {@link Pipeline.executeLocally}.
   */
  async executeRemotely(): Promise<never> {
    throw new NotImplementedError(
      "executeRemotely() is not available yet (it comes with durable runs and resume); use executeLocally(), which runs the controller here while each step still runs on its queue",
    );
  }

  async #loadTask(id: string, store: Store): Promise<TaskDraft> {
    const inline = this.toSpec().tasks[id];
    if (inline) return taskFromRecord({ id, type: inline.type, projectName: String(inline.options["projectName"] ?? this.projectName), taskName: String(inline.options["taskName"] ?? id), createdAt: "", options: { projectName: this.projectName, taskName: id, ...inline.options } });
    return taskFromRecord(await store.getTask(id));
  }
}

/** Every secret a step will need must be set before anything is submitted. */
function checkSecrets(plan: PipelinePlan, secrets: (names: readonly string[]) => Record<string, string>): void {
  const names = [...plan.steps.values()].flatMap((s) => ((s.task.options as { secretEnv?: string[] }).secretEnv ?? []));
  secrets(names);
}

/**
 * Runs (or resumes) a recorded run: rebuilds its plan from the run record alone — the pipeline,
 * the task drafts and the cluster config were stored with it — takes the run's lock, refuses while a
 * controller job on a cluster drives the run (taking over a dead one's journal), and drives the
 * controller. Used in-process by `executeLocally()`, by `resume`, and by detached
 * controllers started by `executeRemotely()`.
 *
 * A run with `runAfter` waits here, holding its lock, until those runs succeeded (`run-after.ts`);
 * one that failed or was cancelled ends this run as failed before anything is submitted.
 *
 * Whatever the run opened here is closed when it ends, however it ends: the backend it built,
 * the lock and its heartbeat, and the run's journal file in the store. When the lock reports
 * its run directory gone (the store removed mid-run), the run fails with that `StoreError`.
 *
 * @module
 */
import type { QueueBackend } from "../backends/queue-backend.js";
import { type ClusterConfig, ClusterConfigSchema } from "../config/cluster-config.js";
import { validateWith } from "../config/yaml-schema.js";
import { PipelineDefinition } from "../pipeline/pipeline-definition.js";
import type { PipelinePlan } from "../pipeline/validate.js";
import { takeOverFromControllerJob } from "../remote/controller-guard.js";
import type { ExecutionEnvironment } from "../runner/environment.js";
import { RunController } from "../runner/run-controller.js";
import { applyRunTimePriorities, recordRunTimes, type ScheduleContext } from "../runner/run-times.js";
import type { RunEventListener, RunResult } from "../runner/run-types.js";
import type { StepHooks } from "../runner/step-hooks.js";
import type { RunRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { taskFromRecord } from "../tasks/registry.js";
import { buildEnvironment } from "./build-environment.js";
import { refuseMissingPaths } from "./check-paths.js";
import { refuseUnmeetableResources } from "./check-resources.js";
import { oncePerId } from "./plan-run.js";
import { waitForRuns } from "./run-after.js";
import { restoreRunSecrets } from "./run-secrets.js";

/** Options of {@link driveRun}. */
export interface DriveRunOptions {
  store: Store;
  /** Continue from the journal (finished steps are not run again). */
  resume?: boolean;
  /** Steps to run again even if they succeeded or are cached (with their descendants on resume). */
  force?: readonly string[];
  onEvent?: RunEventListener;
  signal?: AbortSignal;
  /** Use this backend instead of the recorded config's. Not closed here. */
  backend?: QueueBackend;
  hooks?: Readonly<Record<string, StepHooks>>;
  retryBackoffMs?: number;
  abortOnFailure?: boolean;
  runTimeLimitSeconds?: number;
  /** Store directory (for the default venv lookup). */
  home?: string;
  /** Called with the controller once it exists (to ask it about its jobs, e.g. on Ctrl-C). */
  onController?: (controller: RunController) => void;
  /** Hears why the run waits before its steps start (its `runAfter` runs), as it changes. */
  onWaiting?: (message: string) => void;
  /** Time between looks at `runAfter` runs, ms (default 500). */
  runAfterPollMs?: number;
  /**
   * The plan `createRun()` returned for this run, in this process: used instead of planning the
   * record again (planned once per run). Ignored on resume, which plans from the record.
   */
  plan?: PipelinePlan;
}

/** Plans a recorded run from its record alone. */
export async function planRecordedRun(record: RunRecord, checkQueue: (queue: string) => string | undefined): Promise<PipelinePlan> {
  const pipeline = PipelineDefinition.fromSpec(record.pipeline, `run ${record.id} pipeline`);
  const tasks = new Map(record.tasks.map((t) => [t.id, t]));
  return pipeline.plan({
    loadTask: oncePerId(async (id) => {
      const task = tasks.get(id);
      if (!task) throw new Error(`run ${record.id} has no stored draft "${id}"`);
      return taskFromRecord(task);
    }),
    checkQueue,
  });
}

/** What the schedule choice knows of `environment`: each step's GPUs, and the local pool's size. */
function scheduleContext(environment: ExecutionEnvironment): ScheduleContext {
  const pool = (environment.backend as { pool?: { size?: unknown } }).pool?.size;
  return {
    gpusOf: (planned) => {
      const queue = environment.resolveQueue(planned.spec.executionQueue);
      return "error" in queue ? 0 : queue.resources.gpus * queue.resources.nodes;
    },
    poolGpus: typeof pool === "number" ? pool : undefined,
  };
}

/** Drives run `runId` to its end; see the module comment. */
export async function driveRun(runId: string, options: DriveRunOptions): Promise<RunResult> {
  const { store } = options;
  // Secret-looking env values were stored as "***": put the real ones back (never written anywhere).
  const record = restoreRunSecrets(await store.getRun(runId));
  const config = validateWith(ClusterConfigSchema, record.clusterConfig ?? { executor: "local" }, `run ${runId} cluster config`);
  const lock = await store.lockRun(runId);
  let ended: { result: RunResult; plan?: PipelinePlan } | undefined;
  try {
    ended = await driveLocked(runId, record, config, lock.lost, options);
    return ended.result;
  } finally {
    await lock.release();
    await store.closeJournal(runId);
    // After the lock is released (a run seen finished has let go of its lock): estimates, best effort.
    if (ended?.plan) await recordRunTimes(store, ended.plan, ended.result).catch(() => undefined);
  }
}

async function driveLocked(runId: string, record: RunRecord, config: ClusterConfig, lockLost: AbortSignal, options: DriveRunOptions): Promise<{ result: RunResult; plan?: PipelinePlan }> {
  const { store } = options;
  // One controller per run wherever it runs: a live controller job on a cluster refuses this
  // one; a dead one's journal is taken over here first (and the run stops being remote).
  await takeOverFromControllerJob(store, runId);
  // Runs this one must follow: wait for them to succeed before anything is planned or submitted.
  if (record.runAfter?.length) {
    // The run has started (its controller lives and holds it) while it waits: status and runs say so.
    await store.appendJournal(runId, { type: "run-started", at: Date.now(), controller: `pid ${process.pid}` });
    const waited = await waitForRuns(store, runId, record.runAfter, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onWaiting ? { onWaiting: options.onWaiting } : {}),
      ...(options.runAfterPollMs !== undefined ? { pollMs: options.runAfterPollMs } : {}),
    });
    if (waited.kind !== "ready") {
      await store.appendJournal(runId, { type: "run-finished", at: Date.now(), status: waited.kind, reason: waited.reason });
      const { readRun, resultOf } = await import("./run-status.js");
      return { result: resultOf(store, await readRun(store, runId)) as RunResult };
    }
  }
  const environment = await buildEnvironment(record.cluster.name, config, {
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.home ? { home: options.home } : {}),
  });
  try {
    const plan =
      options.plan && !options.resume
        ? options.plan
        : await planRecordedRun(record, (queue) => {
            const resolved = environment.resolveQueue(queue);
            return "error" in resolved ? resolved.error : undefined;
          });
    // Every knowable problem before the first job: what the cluster itself can never give, and
    // paths the steps need that are not there (one round trip each). The
    // run is journaled as failed with the reason, so `status` says why nothing ran.
    if (!options.resume) {
      await refuseUnmeetableResources(plan, environment, environment.backend)
        .then(() => refuseMissingPaths(plan, environment.backend))
        .catch(async (error: unknown) => {
          await store.appendJournal(runId, { type: "run-started", at: Date.now(), controller: `pid ${process.pid}` });
          await store.appendJournal(runId, { type: "run-finished", at: Date.now(), status: "failed", reason: (error as Error).message });
          throw error;
        });
    }
    // Earlier runs' times of the same steps, when the store has them, set the priorities.
    await applyRunTimePriorities(plan, store, scheduleContext(environment));
    const controller = new RunController({
      runId,
      plan,
      store,
      environment,
      runtime: record.options.runtime,
      parameters: record.options.parameters,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.hooks ? { hooks: options.hooks } : {}),
      ...(options.force ? { force: options.force } : {}),
      ...(options.retryBackoffMs !== undefined ? { retryBackoffMs: options.retryBackoffMs } : {}),
      ...(options.abortOnFailure !== undefined ? { abortOnFailure: options.abortOnFailure } : {}),
      ...(options.runTimeLimitSeconds !== undefined ? { runTimeLimitSeconds: options.runTimeLimitSeconds } : {}),
      ...(options.resume ? { resume: { entries: await store.readJournal(runId), ...(options.force ? { force: options.force } : {}) } } : {}),
    });
    controller.done.catch(() => undefined); // awaited below; a start() that throws must not leave it unhandled
    options.onController?.(controller);
    if (lockLost.aborted) throw lockLost.reason;
    const onLost = () => controller.fail(lockLost.reason);
    lockLost.addEventListener("abort", onLost, { once: true });
    try {
      await controller.start();
      return { result: await controller.done, plan };
    } finally {
      lockLost.removeEventListener("abort", onLost);
    }
  } finally {
    if (!options.backend) await environment.backend.close();
  }
}

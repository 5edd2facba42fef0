/**
 * `Pipeline`: the pipeline definition plus execution. `executeLocally()` runs the controller in
 * this process; `executeRemotely()` runs it detached and returns a handle at once. Either way
 * each step runs on its queue's backend, and the run is journaled so it can be resumed.
 *
 * @module
 */
import type { QueueBackend } from "../backends/queue-backend.js";
import { PipelineDefinition } from "../pipeline/pipeline-definition.js";
import type { RunEventListener, RunResult } from "../runner/run-types.js";
import type { StepHooks } from "../runner/step-hooks.js";
import { defaultStoreHome, FileStore } from "../store/file-store.js";
import type { Store } from "../store/store.js";
import { type CreateRunOptions, createRun, storeFor } from "./create-run.js";
import { driveRun } from "./drive-run.js";
import { guardRun } from "./interrupt-guard.js";
import { RunHandle } from "./run-handle.js";
import { startRunController } from "./start-controller.js";

/** Options of {@link Pipeline.executeLocally}. */
export interface ExecuteOptions extends CreateRunOptions {
  /** Aborting cancels the run: running jobs are killed (process groups, `scancel`). */
  signal?: AbortSignal;
  /** Progress events. */
  onEvent?: RunEventListener;
  /** Use this backend instead of the config's (tests, custom backends). Not closed by the run. */
  backend?: QueueBackend;
  /** Base delay for retry backoff, ms (default 1000). */
  retryBackoffMs?: number;
  /** Any step's failure cancels the whole run. */
  abortOnFailure?: boolean;
  /** Wall-clock limit of the whole run, in seconds. */
  runTimeLimitSeconds?: number;
  /** Callbacks by step name (`"*"` for all): `preExecute`, `postExecute`, `onStatusChange`. */
  hooks?: Readonly<Record<string, StepHooks>>;
  /** Steps that ignore the cache this time. */
  force?: readonly string[];
  /**
   * Handle Ctrl-C (SIGINT) and SIGTERM while the run is active (default true): when this script
   * has no listener of its own for the signal, the first one cancels every active in-process
   * run (jobs killed, the cancellation journaled), prints one line on stderr, and exits with
   * 130 (143 for SIGTERM) once the jobs are gone; a second one exits at once, naming the jobs
   * that may still run. `false` leaves signals to you: abort `signal` from your own handler.
   */
  handleSignals?: boolean;
}

/**
 * A pipeline: build it with `addStep()`, run it with `executeLocally()` or `executeRemotely()`.
 *
 * @example
 * ```ts
 * import { Pipeline, Task } from "gpu-dag";
 *
 * const greet = new Task({
 *   projectName: "docs", taskName: "greet",
 *   command: ["sh", "-c", "echo hello {who}"], parameters: { who: "world" },
 * });
 * await greet.createTask(); // stored; greet.id is set
 *
 * const pipeline = new Pipeline({ projectName: "docs", pipelineName: "greetings" });
 * pipeline.addStep({ name: "first", baseTaskId: greet.id!, executionQueue: "default" });
 * pipeline.addStep({
 *   name: "second", baseTaskId: greet.id!, parents: ["first"], executionQueue: "default",
 *   parameterOverride: { who: "again" },
 * });
 * console.log(pipeline.toMermaid());
 *
 * const result = await pipeline.executeLocally();
 * console.log(result.status); // prints: succeeded
 * ```
 */
export class Pipeline extends PipelineDefinition {
  /**
   * Validates, records the run in the store, and runs the controller in this process until every
   * step has ended. Resolves with the run's result (a failed or cancelled run resolves too: check
   * `status`). Rejects, with nothing submitted, when the pipeline or the config is invalid.
   *
   * Rejects with a `StoreError` (code `E_STORE`, naming the path) when the store is removed,
   * replaced or unwritable while the run uses it: the run cannot be recorded, so its running
   * jobs are cancelled and no result is reported as if it were.
   *
   * Ctrl-C / SIGTERM: see {@link ExecuteOptions.handleSignals}. A store made for this call (from
   * `home`) is closed when it returns; a `store` you pass stays yours to close.
   *
   * @example
   * ```ts
   * import { Pipeline, Task } from "gpu-dag";
   *
   * const fail = new Task({ projectName: "docs", taskName: "flaky", command: ["sh", "-c", "exit 3"] });
   * await fail.createTask();
   * const pipeline = new Pipeline({ projectName: "docs", pipelineName: "events" });
   * pipeline.addStep({ name: "flaky", baseTaskId: fail.id!, executionQueue: "default", retryOnFailure: 1 });
   *
   * const stop = new AbortController(); // stop.abort() cancels the run: its jobs are killed
   * const result = await pipeline.executeLocally({
   *   signal: stop.signal,
   *   retryBackoffMs: 10,
   *   onEvent: (event) => {
   *     if (event.type === "step:failure") console.log(`${event.step} failed: ${event.reason}`);
   *   },
   * });
   * // A failed run resolves too: check its status.
   * console.log(result.status, result.steps["flaky"]?.attempts); // prints: failed 2
   * ```
   */
  async executeLocally(options: ExecuteOptions = {}): Promise<RunResult> {
    // A store made for this call (from `home`) is this call's to close; the process-wide default
    // store and a caller's own are not (their per-run journal is closed by driveRun).
    const owned = options.store === undefined && Boolean(options.home);
    const store = storeFor(options);
    try {
      const { runId, plan } = await createRun(this, { ...options, store, mode: "local" });
      const guard = options.handleSignals === false ? undefined : guardRun(runId, options.signal);
      const signal = guard?.signal ?? options.signal;
      try {
        return await driveRun(runId, {
          store,
          plan,
          ...(options.home ? { home: options.home } : {}),
          ...(signal ? { signal } : {}),
          ...(guard ? { onController: (controller) => guard.setJobs(() => controller.activeJobIds()) } : {}),
          ...pick(options, ["onEvent", "backend", "retryBackoffMs", "abortOnFailure", "runTimeLimitSeconds", "hooks", "force"]),
        });
      } finally {
        await guard?.release();
      }
    } finally {
      if (owned) await store.close();
    }
  }

  /**
   * Validates and records the run, starts its controller away from this process — a detached
   * process on this machine for a local cluster, a job on the `services` queue (CPU only) for a
   * Slurm cluster — and returns a {@link RunHandle} at once.
   * The calling process may exit; `Pipeline.attach(runId)` or `gpu-dag wait` follow the run.
   * A Slurm config without the services queue is refused with a `ConfigError` before the run is
   * recorded. `run --remote` goes through the same code (`startRunController()`).
   * Callbacks (`hooks`) do not cross processes and are not accepted here.
   *
   * @example
   * ```ts
   * import { Pipeline, Task } from "gpu-dag";
   *
   * const sleepy = new Task({ projectName: "docs", taskName: "sleepy", command: ["sh", "-c", "sleep 1; echo done"] });
   * await sleepy.createTask();
   * const pipeline = new Pipeline({ projectName: "docs", pipelineName: "detached" });
   * pipeline.addStep({ name: "nap", baseTaskId: sleepy.id!, executionQueue: "default" });
   *
   * // Returns at once: the controller runs in its own process (for a Slurm cluster config,
   * // `executeRemotely({ cluster: "my-slurm" })`, as a job on the cluster's services queue).
   * const handle = await pipeline.executeRemotely();
   * console.log(`follow it with: gpu-dag watch ${handle.runId}`);
   *
   * // This process may exit now; or follow the run from here (or later, with Pipeline.attach):
   * const result = await Pipeline.attach(handle.runId).wait({ timeoutMs: 120_000 });
   * console.log(result.status); // prints: succeeded
   * ```
   */
  async executeRemotely(options: CreateRunOptions = {}): Promise<RunHandle> {
    const home = options.home ?? (options.store instanceof FileStore ? options.store.home : defaultStoreHome());
    const { runId, store } = await createRun(this, { ...options, home, mode: "detached" });
    const started = await startRunController(store, runId, { home });
    return new RunHandle(runId, store, started.kind === "process" ? { controllerPid: started.pid } : {});
  }

  /** A handle on an existing run, to follow or cancel it. */
  static attach(runId: string, options: { store?: Store; home?: string } = {}): RunHandle {
    return new RunHandle(runId, storeFor(options));
  }
}

function pick<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}

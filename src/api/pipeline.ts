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
import { createRun, type CreateRunOptions, storeFor } from "./create-run.js";
import { startRunController } from "./start-controller.js";
import { driveRun } from "./drive-run.js";
import { RunHandle } from "./run-handle.js";

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
}

/** A pipeline: build it with `addStep()`, run it with `executeLocally()` or `executeRemotely()`. */
export class Pipeline extends PipelineDefinition {
  /**
   * Validates, records the run in the store, and runs the controller in this process until every
   * step has ended. Resolves with the run's result (a failed run resolves too: check `status`).
   * Rejects, with nothing submitted, when the pipeline or the config is invalid.
   */
  async executeLocally(options: ExecuteOptions = {}): Promise<RunResult> {
    const { runId, store } = await createRun(this, { ...options, mode: "local" });
    return driveRun(runId, {
      store,
      ...(options.home ? { home: options.home } : {}),
      ...pick(options, ["onEvent", "signal", "backend", "retryBackoffMs", "abortOnFailure", "runTimeLimitSeconds", "hooks", "force"]),
    });
  }

  /**
   * Validates and records the run, starts its controller away from this process — a detached
   * process on this machine for a local cluster, a job on the `services` queue (CPU only) for a
   * Slurm cluster — and returns a {@link RunHandle} at once.
   * The calling process may exit; `Pipeline.attach(runId)` or `gpu-dag wait` follow the run.
   * A Slurm config without the services queue is refused with a `ConfigError` before the run is
   * recorded. `run --remote` goes through the same code (`startRunController()`).
   * Callbacks (`hooks`) do not cross processes and are not accepted here.
   */
  async executeRemotely(options: CreateRunOptions = {}): Promise<RunHandle> {
    const home = options.home ?? (options.store instanceof FileStore ? options.store.home : defaultStoreHome());
    const { runId, store } = await createRun(this, { ...options, home, mode: "detached" });
    await startRunController(store, runId, { home });
    return new RunHandle(runId, store);
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

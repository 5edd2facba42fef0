/**
 * The controller of one run: starts each step as soon as all its parents have succeeded
 * (event-driven, no level-by-level waiting, no fixed polling), submits every step that became
 * ready in the same tick as one batch, journals each decision (fsynced) before acting on it,
 * retries, skips descendants of failures, and cancels everything on abort.
 *
 * @module
 */
import { isTerminal, jobNameFor, type JobSpec, type JobState, OUTPUTS_FILE } from "../backends/queue-backend.js";
import type { ResolvedQueue } from "../config/resolve-queue.js";
import { GpuDagError } from "../errors.js";
import { readOutputsManifest } from "../manifest/outputs-manifest.js";
import type { PipelinePlan, PlannedStep } from "../pipeline/validate.js";
import type { JournalEntry, StepOutputs } from "../store/records.js";
import type { Store } from "../store/store.js";
import { join } from "node:path";
import type { ExecutionEnvironment } from "./environment.js";
import { recordOutputs } from "./record-outputs.js";
import { resolveStep, type ResolutionScope } from "./resolve-step.js";
import type { RunEvent, RunEventListener, RunResult, RunStatus, StepResult } from "./run-types.js";

/** Options of a run. */
export interface RunControllerOptions {
  runId: string;
  plan: PipelinePlan;
  store: Store;
  environment: ExecutionEnvironment;
  /** `simulate` runs stand-ins for the ML tools (drafts may still say otherwise). */
  runtime?: "real" | "simulate";
  parameters?: Readonly<Record<string, string | number | boolean>>;
  onEvent?: RunEventListener;
  signal?: AbortSignal;
  /** Retries of infrastructure failures (node failure, preemption, lost job) per step. Default 2. */
  infrastructureRetries?: number;
  /** Base delay of retry backoff in ms (doubles each attempt, with jitter). Default 1000. */
  retryBackoffMs?: number;
}

interface StepState {
  planned: PlannedStep;
  queue: ResolvedQueue;
  result: StepResult;
  attempt: number;
  infraFailures: number;
  jobId?: string;
  /** The attempt directory as the job sees it, when the backend says it differs. */
  jobDir?: string;
  spec?: JobSpec;
  resolvedOptions?: Record<string, unknown>;
  waitingParents: number;
}

/** Drives one run; see the module comment. `start()` once, then await `done`. */
export class RunController {
  readonly #o: RunControllerOptions;
  readonly #steps = new Map<string, StepState>();
  readonly #byJob = new Map<string, StepState>();
  #ready: StepState[] = [];
  #flushScheduled = false;
  #active = 0; // steps queued or running (including those being prepared)
  #aborted = false;
  #startedAt = Date.now();
  #resolve!: (result: RunResult) => void;
  #reject!: (error: unknown) => void;
  #unsubscribe: (() => void) | undefined;
  #finished = false;
  /** Resolves with the run's result. */
  readonly done: Promise<RunResult>;

  constructor(options: RunControllerOptions) {
    this.#o = options;
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    for (const name of options.plan.order) {
      const planned = options.plan.steps.get(name)!;
      const queue = options.environment.resolveQueue(planned.spec.executionQueue);
      if ("error" in queue) throw new GpuDagError("E_CONFIG", `step "${name}": ${queue.error}`);
      this.#steps.set(name, {
        planned,
        queue,
        attempt: 0,
        infraFailures: 0,
        waitingParents: planned.parents.length,
        result: { name, status: "pending", queue: planned.spec.executionQueue, attempts: 0 },
      });
    }
  }

  /** Starts the run. */
  async start(): Promise<void> {
    const { signal } = this.#o;
    this.#unsubscribe = this.#o.environment.backend.onUpdate((id, state) => this.#onJobUpdate(id, state));
    if (signal?.aborted) {
      this.#abort();
      return;
    }
    signal?.addEventListener("abort", () => this.#abort(), { once: true });
    await this.#journal({ type: "run-started", at: Date.now(), controller: `pid ${process.pid}` });
    for (const state of this.#steps.values()) if (state.waitingParents === 0) this.#markReady(state);
    this.#checkDone();
  }

  #markReady(state: StepState): void {
    state.result.status = "queued";
    this.#active += 1;
    this.#ready.push(state);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // Steps made ready by the same event (e.g. one parent's many children) go in one batch.
      queueMicrotask(() => void this.#flush().catch((e) => this.#fail(e)));
    }
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    const batch = this.#ready;
    this.#ready = [];
    if (this.#aborted) {
      for (const state of batch) this.#finishStep(state, "cancelled", "run was cancelled");
      return;
    }
    const prepared = await Promise.all(batch.map((state) => this.#prepare(state)));
    const specs = prepared.filter((s): s is StepState & { spec: JobSpec } => s !== undefined);
    if (specs.length === 0) return;
    let submitted;
    try {
      submitted = await this.#o.environment.backend.submit(specs.map((s) => s.spec));
    } catch (error) {
      for (const state of specs) this.#attemptFailed(state, null, `submission failed: ${(error as Error).message}`, true);
      return;
    }
    await Promise.all(
      submitted.map((job, i) => {
        const state = specs[i]!;
        state.jobId = job.backendJobId;
        state.result.jobId = job.backendJobId;
        state.result.queuedAt = Date.now();
        this.#byJob.set(job.backendJobId, state);
        if (job.jobDir) state.jobDir = job.jobDir;
        this.#emit({ type: "step:queued", runId: this.#o.runId, step: state.planned.spec.name, attempt: state.attempt, jobId: job.backendJobId, queue: state.queue.name, at: Date.now() });
        return this.#journal({ type: "job-submitted", at: Date.now(), step: state.planned.spec.name, attempt: state.attempt, backendJobId: job.backendJobId });
      }),
    );
    // A job may have changed state before its id was known here; catch up in one poll.
    const states = await this.#o.environment.backend.poll(submitted.map((j) => j.backendJobId));
    for (const [id, state] of states) if (state.status !== "queued") this.#onJobUpdate(id, state);
  }

  async #prepare(state: StepState): Promise<StepState | undefined> {
    const name = state.planned.spec.name;
    state.attempt += 1;
    state.result.attempts = state.attempt;
    try {
      const resolved = await resolveStep(state.planned, this.#scope(), this.#o.store, state.queue, {
        runtime: this.#o.runtime,
        python: this.#o.environment.python(state.queue),
      });
      state.resolvedOptions = { ...resolved.task.options };
      const attemptDir = await this.#o.store.attemptDir(this.#o.runId, name, state.attempt);
      const secretNames = (resolved.task.options as { secretEnv?: string[] }).secretEnv ?? [];
      const timeLimit = minDefined(state.queue.resources.timeLimitSeconds, state.planned.spec.timeLimit);
      state.spec = {
        jobName: jobNameFor(this.#o.runId, name, state.attempt),
        runId: this.#o.runId,
        step: name,
        attempt: state.attempt,
        queue: state.queue.name,
        resources: { ...state.queue.resources, ...(timeLimit !== undefined ? { timeLimitSeconds: timeLimit } : {}) },
        argv: resolved.command.argv,
        env: { ...this.#o.environment.env, ...resolved.command.env, ...(resolved.command.simulated ? { GPU_DAG_SIMULATED: "1" } : {}) },
        secretEnv: this.#o.environment.secrets(secretNames),
        attemptDir,
        priority: state.planned.priority,
      };
      state.result.attemptDir = attemptDir;
      await this.#journal({
        type: "attempt-planned",
        at: Date.now(),
        step: name,
        attempt: state.attempt,
        jobName: state.spec.jobName,
        argv: [...state.spec.argv],
        parameters: state.resolvedOptions,
        queue: state.queue.name,
      });
      return state;
    } catch (error) {
      // Launch-time errors (a placeholder with nothing to point at) are not retried: they would fail again.
      const reason = (error as Error).message;
      await this.#journal({ type: "attempt-finished", at: Date.now(), step: name, attempt: state.attempt, status: "failed", exitCode: null, infrastructure: false, reason });
      this.#emit({ type: "step:failure", runId: this.#o.runId, step: name, attempt: state.attempt, reason, exitCode: null, willRetry: false, at: Date.now() });
      this.#stepFailed(state, null, reason, false);
      return undefined;
    }
  }

  #onJobUpdate(id: string, job: JobState): void {
    const state = this.#byJob.get(id);
    if (!state || state.jobId !== id || isTerminalStatus(state.result.status)) return;
    if (job.status === "running" && state.result.status !== "running") {
      state.result.status = "running";
      state.result.startedAt = job.startedAt ?? Date.now();
      const name = state.planned.spec.name;
      void this.#journal({ type: "job-started", at: Date.now(), step: name, attempt: state.attempt });
      this.#emit({ type: "step:start", runId: this.#o.runId, step: name, attempt: state.attempt, jobId: id, at: Date.now() });
    } else if (isTerminal(job)) {
      this.#byJob.delete(id);
      void this.#onJobEnded(state, job).catch((e) => this.#fail(e));
    }
  }

  async #onJobEnded(state: StepState, job: JobState): Promise<void> {
    state.result.endedAt = Date.now();
    if (state.result.startedAt !== undefined) state.result.durationMs = state.result.endedAt - state.result.startedAt;
    const backend = this.#o.environment.backend;
    await backend.collect(state.jobId!).catch(() => undefined);
    if (job.status === "succeeded") {
      let outputs: StepOutputs;
      try {
        const manifest = await readOutputsManifest(join(state.spec!.attemptDir, OUTPUTS_FILE));
        outputs = await recordOutputs(this.#o.store, manifest, {
          runId: this.#o.runId,
          step: state.planned.spec.name,
          attempt: state.attempt,
          cluster: this.#o.environment.clusterName,
          jobDir: state.jobDir ?? state.spec!.attemptDir,
        });
      } catch (error) {
        await this.#attemptFailed(state, 0, (error as Error).message, false);
        return;
      }
      await this.#journal({ type: "attempt-finished", at: Date.now(), step: state.planned.spec.name, attempt: state.attempt, status: "succeeded", exitCode: 0, infrastructure: false, reason: "", outputs });
      state.result.exitCode = 0;
      state.result.outputs = outputs;
      this.#stepSucceeded(state, outputs);
      return;
    }
    if (job.status === "cancelled") {
      await this.#journal({ type: "attempt-finished", at: Date.now(), step: state.planned.spec.name, attempt: state.attempt, status: "cancelled", exitCode: null, infrastructure: false, reason: job.reason });
      this.#finishStep(state, "cancelled", job.reason);
      return;
    }
    const exitCode = job.status === "failed" ? job.exitCode : null;
    const infrastructure = job.status === "lost" || (job.status === "failed" && job.infrastructure);
    const tail = await backend.logs(state.jobId!, { stream: "stderr", tailBytes: 2048 }).catch(() => "");
    const why = "reason" in job ? job.reason : job.status;
    const reason = `${why}${tail.trim() ? `; stderr tail:\n${tail.trimEnd()}` : ""}`;
    await this.#attemptFailed(state, exitCode, reason, infrastructure);
  }

  async #attemptFailed(state: StepState, exitCode: number | null, reason: string, infrastructure: boolean): Promise<void> {
    const name = state.planned.spec.name;
    await this.#journal({ type: "attempt-finished", at: Date.now(), step: name, attempt: state.attempt, status: "failed", exitCode, infrastructure, reason });
    const retries = state.planned.spec.retryOnFailure ?? 0;
    if (infrastructure) state.infraFailures += 1;
    const jobFailures = state.attempt - state.infraFailures;
    const willRetry = !this.#aborted && (infrastructure ? state.infraFailures <= (this.#o.infrastructureRetries ?? 2) : jobFailures <= retries);
    this.#emit({ type: "step:failure", runId: this.#o.runId, step: name, attempt: state.attempt, reason, exitCode, willRetry, at: Date.now() });
    if (willRetry) {
      const base = this.#o.retryBackoffMs ?? 1000;
      const delay = base * 2 ** (state.attempt - 1) * (0.5 + Math.random() * 0.5);
      state.result.status = "queued";
      setTimeout(() => {
        this.#active -= 1; // #markReady counts it again
        if (this.#aborted) {
          this.#active += 1;
          this.#finishStep(state, "cancelled", "run was cancelled");
        } else this.#markReady(state);
      }, delay);
      return;
    }
    this.#stepFailed(state, exitCode, reason, infrastructure);
  }

  #stepFailed(state: StepState, exitCode: number | null, reason: string, infrastructure: boolean): void {
    state.result.exitCode = exitCode;
    state.result.infrastructure = infrastructure;
    if (state.planned.spec.continueOnFail) {
      state.result.reason = reason;
      this.#finishStep(state, "failed", reason, true);
      return;
    }
    this.#finishStep(state, "failed", reason);
  }

  #stepSucceeded(state: StepState, outputs: StepOutputs): void {
    this.#emit({ type: "step:success", runId: this.#o.runId, step: state.planned.spec.name, attempt: state.attempt, outputs, cached: false, at: Date.now() });
    this.#finishStep(state, "succeeded", undefined, true);
  }

  /** Ends a step; `releaseChildren` lets its children run (success, or continueOnFail). */
  #finishStep(state: StepState, status: StepResult["status"], reason?: string, releaseChildren = false): void {
    state.result.status = status;
    if (reason !== undefined && status !== "succeeded") state.result.reason = reason;
    this.#active -= 1;
    for (const child of state.planned.children) {
      const childState = this.#steps.get(child)!;
      if (childState.result.status !== "pending") continue;
      if (releaseChildren) {
        childState.waitingParents -= 1;
        if (childState.waitingParents === 0 && !this.#aborted) this.#markReady(childState);
      } else {
        this.#skip(childState, `parent "${state.planned.spec.name}" ${status}`);
      }
    }
    this.#checkDone();
  }

  #skip(state: StepState, reason: string): void {
    if (state.result.status !== "pending") return;
    state.result.status = "skipped";
    state.result.reason = reason;
    const name = state.planned.spec.name;
    void this.#journal({ type: "step-skipped", at: Date.now(), step: name, reason });
    this.#emit({ type: "step:skipped", runId: this.#o.runId, step: name, reason, at: Date.now() });
    for (const child of state.planned.children) this.#skip(this.#steps.get(child)!, `ancestor "${name}" did not succeed (${reason})`);
  }

  #abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    for (const state of this.#steps.values()) {
      if (state.result.status === "pending") {
        state.result.status = "cancelled";
        state.result.reason = "run was cancelled";
      }
    }
    const ids = [...this.#byJob.keys()];
    if (ids.length > 0) void this.#o.environment.backend.cancel(ids).catch((e) => this.#fail(e));
    this.#checkDone();
  }

  #checkDone(): void {
    if (this.#finished || this.#active > 0 || this.#ready.length > 0) return;
    if ([...this.#steps.values()].some((s) => s.result.status === "pending" && !this.#aborted)) return;
    this.#finished = true;
    const status: RunStatus = this.#aborted
      ? "cancelled"
      : [...this.#steps.values()].every((s) => s.result.status === "succeeded" || s.result.status === "cached" || (s.result.status === "failed" && s.planned.spec.continueOnFail))
        ? "succeeded"
        : "failed";
    void this.#journal({ type: "run-finished", at: Date.now(), status })
      .then(() => {
        this.#unsubscribe?.();
        const result = this.#result(status);
        this.#emit({ type: "run:complete", runId: this.#o.runId, result, at: Date.now() });
        this.#resolve(result);
      })
      .catch((e) => this.#reject(e));
  }

  #result(status: RunStatus): RunResult {
    const steps: Record<string, StepResult> = {};
    const models: RunResult["models"] = [];
    const metrics: RunResult["metrics"] = {};
    let simulated = false;
    for (const [name, state] of this.#steps) {
      steps[name] = { ...state.result };
      const outputs = state.result.outputs;
      if (outputs) {
        models.push(...outputs.models.map((m) => ({ ...m, step: name })));
        if (Object.keys(outputs.metrics).length > 0) metrics[name] = outputs.metrics;
        simulated ||= outputs.simulated;
      }
    }
    const spec = this.#o.plan.spec;
    return { runId: this.#o.runId, projectName: spec.projectName, pipelineName: spec.pipelineName, status, steps, models, metrics, simulated, startedAt: this.#startedAt, endedAt: Date.now(), store: this.#o.store.location };
  }

  #scope(): ResolutionScope {
    return {
      runId: this.#o.runId,
      spec: this.#o.plan.spec,
      parameters: this.#o.parameters ?? {},
      outputs: (step) => this.#steps.get(step)?.result.outputs,
      resolvedOptions: (step) => this.#steps.get(step)?.resolvedOptions,
    };
  }

  #journal(entry: JournalEntry): Promise<void> {
    return this.#o.store.appendJournal(this.#o.runId, entry);
  }

  #emit(event: RunEvent): void {
    try {
      this.#o.onEvent?.(event);
    } catch {
      // A listener's bug must not break the run.
    }
  }

  #fail(error: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#unsubscribe?.();
    this.#reject(error);
  }
}

function isTerminalStatus(status: StepResult["status"]): boolean {
  return status === "succeeded" || status === "failed" || status === "skipped" || status === "cancelled" || status === "cached";
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

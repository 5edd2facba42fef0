/**
 * The controller of one run: starts each step as soon as all its parents have succeeded
 * (event-driven, no level-by-level waiting, no fixed polling), submits every step that became
 * ready in the same tick as one batch, journals each decision (fsynced) before acting on it,
 * retries with backoff, skips descendants of failures, reuses cached steps, resumes from its own
 * journal, and cancels everything on abort.
 *
 * A run that cannot go on — its store became unusable (a journal write failed), or `fail()` was
 * called (e.g. its lock's run directory vanished) — ends at once: its running jobs are cancelled
 * (nobody would watch or record them) and `done` rejects with the error.
 *
 * Resume rules (a controller killed at any instant, then restarted):
 * - succeeded / cached steps are not run again (unless forced, with their descendants);
 * - an attempt with a journaled job id is adopted from the backend (never submitted twice);
 * - an attempt planned but not journaled as submitted is submitted again with the same
 *   deterministic job name and `reuseExisting`, so a job that did reach the backend is adopted;
 * - failed, cancelled and skipped steps run again, as new attempts.
 *
 * Permanent backend errors (`isPermanentError`: a refused SSH host key or key) are not retried:
 * the run fails at once, its reason (journaled with `run-finished`) says why once, and steps say
 * only that they were not submitted. Jobs already submitted stay open in the journal (they may
 * still run), so a resume adopts them once the cause is fixed. Backend notices (connection lost /
 * restored) are journaled as `backend-notice` and emitted as `run:notice`.
 *
 * @module
 */
import { join } from "node:path";
import { type BackendNotice, describeNotice, isTerminal, jobNameFor, type JobSpec, type JobState, OUTPUTS_FILE, type SubmittedJob } from "../backends/queue-backend.js";
import type { ResolvedQueue } from "../config/resolve-queue.js";
import { BackendError, GpuDagError, type JobRefusal, permanentErrorOf } from "../errors.js";
import { checkManifestPaths } from "../manifest/manifest-paths.js";
import { readOutputsManifest } from "../manifest/outputs-manifest.js";
import type { PipelinePlan, PlannedStep } from "../pipeline/validate.js";
import type { JournalEntry, StepOutputs } from "../store/records.js";
import { MIN_SCRUB_LENGTH, redactOptions, scrubDeep, scrubText, secretValues } from "../store/redact.js";
import type { Store } from "../store/store.js";
import { cacheKey } from "./cache-key.js";
import type { ExecutionEnvironment } from "./environment.js";
import { recordOutputs } from "./record-outputs.js";
import { replayJournal, type ReplayedAttempt } from "./replay.js";
import type { ResolutionScope } from "./resolve-step.js";
import { attemptSpec, renderAttempt, secretNamesOf } from "./attempt-spec.js";
import type { RunEvent, RunEventListener, RunResult, RunStatus, StepResult, StepStatus } from "./run-types.js";
import type { StepHooks } from "./step-hooks.js";

/** Options of a run. */
export interface RunControllerOptions {
  runId: string;
  plan: PipelinePlan;
  store: Store;
  environment: ExecutionEnvironment;
  /** `simulate` runs stand-ins for the ML tools (drafts may still say otherwise). */
  runtime?: "real" | "simulate" | undefined;
  parameters?: Readonly<Record<string, string | number | boolean>>;
  onEvent?: RunEventListener;
  signal?: AbortSignal;
  /** Retries of infrastructure failures (node failure, preemption, lost job) per step. Default 2. */
  infrastructureRetries?: number;
  /** Base delay of retry backoff in ms (doubles each attempt, with jitter). Default 1000. */
  retryBackoffMs?: number;
  /** A failure of any step cancels the whole run (running jobs included). */
  abortOnFailure?: boolean;
  /** Wall-clock limit of the whole run, seconds: when reached, the run is cancelled. */
  runTimeLimitSeconds?: number;
  /** Callbacks per step name, and `"*"` for every step. */
  hooks?: Readonly<Record<string, StepHooks>>;
  /** Resume from the journal instead of starting fresh. */
  resume?: { entries: readonly JournalEntry[]; force?: readonly string[] };
  /** Steps that ignore the cache this time. */
  force?: readonly string[];
}

interface StepState {
  planned: PlannedStep;
  queue: ResolvedQueue;
  result: StepResult;
  attempt: number;
  jobFailures: number;
  infraFailures: number;
  jobId?: string;
  /** The attempt directory as the job sees it, when the backend says it differs. */
  jobDir?: string;
  spec?: JobSpec;
  cacheKey?: string;
  resolvedOptions?: Record<string, unknown>;
  waitingParents: number;
  /** Why its queued job waits, as the backend last said ("" for no reason given). */
  waitReason?: string;
}

/** Drives one run; see the module comment. `start()` once, then await `done`. */
export class RunController {
  readonly #o: RunControllerOptions;
  readonly #steps = new Map<string, StepState>();
  readonly #byJob = new Map<string, StepState>();
  readonly #forced: ReadonlySet<string>;
  #ready: StepState[] = [];
  #flushScheduled = false;
  #active = 0; // steps queued, being prepared, running, or waiting to retry
  #aborted = false;
  #cancelReason = "run was cancelled";
  #startedAt = Date.now();
  #resolve!: (result: RunResult) => void;
  #reject!: (error: unknown) => void;
  #unsubscribe: (() => void) | undefined;
  #unsubscribeNotices: (() => void) | undefined;
  /** Set when a permanent backend error failed the run as a whole: the run's reason. */
  #fatalReason: string | undefined;
  #runTimer: NodeJS.Timeout | undefined;
  /** Backoff timers of steps waiting to retry (cleared when the run fails). */
  readonly #retryTimers = new Set<NodeJS.Timeout>();
  #finished = false;
  /** Secret values handed to jobs (see `store/redact.ts`): scrubbed from everything journaled or emitted. */
  readonly #secrets = new Set<string>();
  /** Journal writes not awaited where they were made (see #track). */
  readonly #pending = new Set<Promise<void>>();
  /** Resolves with the run's result. */
  readonly done: Promise<RunResult>;

  constructor(options: RunControllerOptions) {
    this.#o = options;
    this.#forced = new Set([...(options.force ?? []), ...(options.resume?.force ?? [])]);
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
        jobFailures: 0,
        infraFailures: 0,
        waitingParents: planned.parents.length,
        result: { name, status: "pending", queue: planned.spec.executionQueue, attempts: 0 },
      });
    }
    for (const name of this.#forced) {
      if (!this.#steps.has(name)) throw new GpuDagError("E_PIPELINE_INVALID", `--force names unknown step "${name}" (steps: ${[...this.#steps.keys()].join(", ")})`);
    }
  }

  /** Starts (or resumes) the run. */
  async start(): Promise<void> {
    const { signal } = this.#o;
    this.#unsubscribe = this.#o.environment.backend.onUpdate((id, state) => this.#onJobUpdate(id, state));
    await this.#journal({ type: "run-started", at: Date.now(), controller: `pid ${process.pid}` });
    this.#unsubscribeNotices = this.#o.environment.backend.onNotice?.((notice) => this.#onNotice(notice));
    if (signal?.aborted) {
      this.#abort("run was cancelled");
      return;
    }
    signal?.addEventListener("abort", () => this.#abort("run was cancelled"), { once: true });
    if (this.#o.runTimeLimitSeconds !== undefined) {
      this.#runTimer = setTimeout(() => this.#abort(`run time limit of ${this.#o.runTimeLimitSeconds}s exceeded`), this.#o.runTimeLimitSeconds * 1000);
      this.#runTimer.unref();
    }
    const adopted = this.#o.resume ? await this.#restore(this.#o.resume.entries) : [];
    for (const state of this.#steps.values()) {
      if (state.result.status === "pending" && state.waitingParents === 0) this.#markReady(state);
    }
    await Promise.all(adopted.map((fn) => fn()));
    this.#checkDone();
  }

  /** Applies the journal; returns adoption work to run once every step's state is set. */
  async #restore(entries: readonly JournalEntry[]): Promise<Array<() => Promise<void>>> {
    const replay = replayJournal(entries, [...this.#steps.keys()]);
    const rerun = new Set<string>();
    const markRerun = (name: string) => {
      if (rerun.has(name)) return;
      rerun.add(name);
      for (const child of this.#steps.get(name)!.planned.children) markRerun(child);
    };
    for (const name of this.#forced) markRerun(name);
    const adoptions: Array<() => Promise<void>> = [];
    for (const [name, state] of this.#steps) {
      const replayed = replay.steps.get(name)!;
      state.attempt = Math.max(0, ...replayed.attempts.map((a) => a.attempt));
      state.result.attempts = state.attempt;
      const last = replayed.attempts.find((a) => a.attempt === state.attempt);
      if (last) state.resolvedOptions = last.parameters;
      // After a crash the retry budgets carry on (a crash must not grant a step fresh retries);
      // after a run that finished, resuming is the user asking for another round.
      if (replay.status === "running") {
        for (const attempt of replayed.attempts) {
          if (attempt.status === "lost" || (attempt.status === "failed" && attempt.infrastructure)) state.infraFailures += 1;
          else if (attempt.status === "failed") state.jobFailures += 1;
        }
      }
      const done = (replayed.status === "succeeded" || replayed.status === "cached") && replayed.outputs && !rerun.has(name);
      if (done) {
        state.result.status = replayed.status;
        state.result.outputs = replayed.outputs!;
        if (last?.backendJobId) state.result.jobId = last.backendJobId;
        continue;
      }
      const inFlight = last && last.status === undefined && !rerun.has(name);
      if (inFlight) {
        this.#active += 1;
        state.result.status = last.startedAt ? "running" : "queued";
        adoptions.push(() => this.#adopt(state, last));
      }
    }
    // Children of restored successes no longer wait for them.
    for (const state of this.#steps.values()) {
      if (state.result.status === "succeeded" || state.result.status === "cached") this.#releaseChildren(state, false);
    }
    return adoptions;
  }

  async #adopt(state: StepState, attempt: ReplayedAttempt): Promise<void> {
    try {
      await this.#adoptOrThrow(state, attempt);
    } catch (error) {
      const permanent = permanentErrorOf(error);
      if (!permanent) throw error;
      this.#fatal(permanent);
      // Not journaled as ended: the job may still run; the next resume adopts it.
      if (!isDone(state.result.status)) this.#finishStep(state, "failed", `not adopted: ${refusal(permanent)}; the run failed (see its reason)`);
    }
  }

  async #adoptOrThrow(state: StepState, attempt: ReplayedAttempt): Promise<void> {
    const name = state.planned.spec.name;
    const spec = await this.#specFor(state, attempt);
    state.spec = spec;
    const backend = this.#o.environment.backend;
    let id = attempt.backendJobId;
    if (id === undefined) {
      // Planned, maybe submitted, never journaled: submit again by the same name; the backend reuses a job it already has.
      const [submitted] = await backend.submit([spec], { reuseExisting: true });
      id = submitted!.backendJobId;
      if (submitted!.jobDir) state.jobDir = submitted!.jobDir;
      await this.#journal({ type: "job-submitted", at: Date.now(), step: name, attempt: state.attempt, backendJobId: id });
    }
    state.jobId = id;
    state.result.jobId = id;
    // An adopted job has no SubmittedJob telling where it writes: ask the backend.
    const jobDir = state.jobDir ?? (await backend.jobDirFor?.(spec));
    if (jobDir !== undefined) state.jobDir = jobDir;
    this.#byJob.set(id, state);
    const job = attempt.backendJobId === undefined ? (await backend.poll([id])).get(id)! : await backend.adopt(spec, id);
    this.#onJobUpdate(id, job);
  }

  /** The step with placeholders resolved from its parents' outputs, its command rendered, its job env. */
  #render(state: StepState) {
    return renderAttempt({ planned: state.planned, queue: state.queue, scope: this.#scope(), store: this.#o.store, environment: this.#o.environment, runtime: this.#o.runtime });
  }

  /**
   * Rebuilds the job spec of a journaled attempt. The argv is the journaled one; the environment
   * is rendered again from the same inputs (parents' outputs are restored), since a planned but
   * unsubmitted attempt is submitted afresh with it.
   */
  async #specFor(state: StepState, attempt: ReplayedAttempt): Promise<JobSpec> {
    const name = state.planned.spec.name;
    const rendered = await this.#render(state).then((r) => r.env, () => undefined);
    const attemptDir = await this.#o.store.attemptDir(this.#o.runId, name, attempt.attempt);
    state.result.attemptDir = attemptDir;
    const spec = attemptSpec({
      runId: this.#o.runId,
      planned: state.planned,
      queue: state.queue,
      attempt: attempt.attempt,
      argv: attempt.argv,
      env: rendered ?? this.#o.environment.env,
      secretEnv: this.#o.environment.secrets(secretNamesOf(attempt.parameters)),
      attemptDir,
      journaled: { jobName: attempt.jobName, queue: attempt.queue },
    });
    this.#learnSecrets(spec);
    return spec;
  }

  /** Remembers the secret values a job gets, so no copy of them is journaled or emitted. */
  #learnSecrets(spec: Pick<JobSpec, "env" | "secretEnv">): void {
    for (const value of secretValues(spec.env, spec.secretEnv)) if (value.length >= MIN_SCRUB_LENGTH) this.#secrets.add(value);
  }

  #markReady(state: StepState): void {
    this.#setStatus(state, "queued");
    this.#active += 1;
    this.#ready.push(state);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // Steps made ready by the same event (e.g. one parent's many children) go in one batch.
      queueMicrotask(() => void this.#flush().catch((e) => this.#failOrFatal(e)));
    }
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    const batch = this.#ready;
    this.#ready = [];
    if (this.#aborted) {
      for (const state of batch) this.#finishStep(state, "cancelled", this.#cancelReason);
      return;
    }
    const prepared = await Promise.all(batch.map((state) => this.#prepare(state)));
    const specs = prepared.filter((s): s is StepState & { spec: JobSpec } => s !== undefined);
    if (specs.length === 0) return;
    if (this.#aborted) {
      for (const state of specs) this.#finishStep(state, "cancelled", this.#cancelReason);
      return;
    }
    await this.#submit(specs);
  }

  /**
   * Submits prepared steps as one batch. An error is attributed to the step it belongs to: jobs
   * the backend names as refused fail their own steps and the rest of the batch is submitted
   * again; an error of the whole batch is every step's, with its real reason.
   */
  async #submit(specs: ReadonlyArray<StepState & { spec: JobSpec }>): Promise<void> {
    let submitted: SubmittedJob[];
    try {
      submitted = await this.#o.environment.backend.submit(specs.map((s) => s.spec));
    } catch (error) {
      const refused = error instanceof BackendError ? error.refused : new Map<string, JobRefusal>();
      const own = specs.filter((s) => refused.has(s.spec.jobName));
      if (own.length > 0) {
        for (const state of own) {
          const { reason, permanent } = refused.get(state.spec.jobName)!;
          void this.#track(this.#submissionFailed(state, `submission failed: ${scrubText(reason, this.#secrets)}`, permanent));
        }
        const others = specs.filter((s) => !refused.has(s.spec.jobName));
        if (others.length === 0) return;
        if (this.#aborted) {
          for (const state of others) this.#finishStep(state, "cancelled", this.#cancelReason);
          return;
        }
        await this.#submit(others);
        return;
      }
      const permanent = permanentErrorOf(error);
      if (permanent && !(permanent instanceof BackendError)) {
        // The cluster refused the connection: retrying cannot help. Fail the run once (its reason
        // says why), not each step with the message.
        this.#fatal(permanent);
        for (const state of specs) void this.#attemptFailed(state, null, `not submitted: ${refusal(permanent)}; the run failed (see its reason)`, false);
        return;
      }
      const reason = `submission failed: ${scrubText((error as Error).message, this.#secrets)}`;
      // A backend's permanent refusal (more GPUs than the machine has) would be refused again: no retry.
      for (const state of specs) void this.#track(this.#submissionFailed(state, reason, permanent !== undefined));
      return;
    }
    // Matched by job name: a backend need not answer in the order of the batch.
    const byName = new Map(specs.map((s) => [s.spec.jobName, s]));
    await Promise.all(
      submitted.map((job, i) => {
        const state = byName.get(job.jobName) ?? specs[i]!;
        state.jobId = job.backendJobId;
        state.result.jobId = job.backendJobId;
        state.result.queuedAt = Date.now();
        if (job.jobDir) state.jobDir = job.jobDir;
        this.#byJob.set(job.backendJobId, state);
        this.#emit({ type: "step:queued", runId: this.#o.runId, step: state.planned.spec.name, attempt: state.attempt, jobId: job.backendJobId, queue: state.queue.name, at: Date.now() });
        return this.#journal({ type: "job-submitted", at: Date.now(), step: state.planned.spec.name, attempt: state.attempt, backendJobId: job.backendJobId });
      }),
    );
    if (this.#aborted) {
      await this.#o.environment.backend.cancel(submitted.map((j) => j.backendJobId)).catch(() => undefined);
    }
    // A job may have changed state before its id was known here; catch up in one poll.
    const states = await this.#o.environment.backend.poll(submitted.map((j) => j.backendJobId));
    for (const [id, state] of states) this.#onJobUpdate(id, state);
  }

  /** A submission refused: for good when it would be refused again, else as an infrastructure failure (retried). */
  #submissionFailed(state: StepState, reason: string, permanent: boolean): Promise<void> {
    return permanent ? this.#failForGood(state, reason) : this.#attemptFailed(state, null, reason, true);
  }

  /** Resolves, checks the cache and hooks, journals the attempt. `undefined` when not submitting. */
  async #prepare(state: StepState): Promise<StepState | undefined> {
    const name = state.planned.spec.name;
    state.attempt += 1;
    state.result.attempts = state.attempt;
    try {
      const { resolved, env } = await this.#render(state);
      state.resolvedOptions = { ...resolved.task.options };
      if (state.planned.spec.cacheExecutedStep) {
        const { modelId: _storeId, ...options } = state.resolvedOptions;
        state.cacheKey = cacheKey({
          taskType: resolved.task.type,
          options: resolved.modelPath ? options : state.resolvedOptions,
          argv: resolved.command.argv,
          env,
          queue: state.queue.config,
          cluster: this.#o.environment.clusterName,
          parents: state.planned.parents.map((p) => ({ name: p, outputs: this.#steps.get(p)!.result.outputs })),
        });
        if (!this.#forced.has(name)) {
          const hit = await this.#o.store.getCacheEntry(state.cacheKey);
          if (hit) {
            state.attempt -= 1;
            state.result.attempts = state.attempt;
            await this.#journal({ type: "step-cached", at: Date.now(), step: name, fromRunId: hit.runId, fromStep: hit.step, outputs: hit.outputs });
            state.result.outputs = hit.outputs;
            state.result.reason = `cached: outputs of run ${hit.runId}, step ${hit.step}`;
            this.#emit({ type: "step:success", runId: this.#o.runId, step: name, attempt: state.attempt, outputs: hit.outputs, cached: true, at: Date.now() });
            this.#finishStep(state, "cached", undefined, true);
            return undefined;
          }
        }
      }
      const hooks = this.#hooks(name);
      for (const hook of hooks) {
        if (hook.preExecute && (await hook.preExecute({ runId: this.#o.runId, step: name, attempt: state.attempt, parameters: state.resolvedOptions })) === false) {
          state.attempt -= 1;
          state.result.attempts = state.attempt;
          this.#active -= 1;
          this.#skip(state, "preExecute returned false", true);
          this.#checkDone();
          return undefined;
        }
      }
      // The attempt directory is made while the attempt-planned line is fsynced: both must be done
      // before submission and neither needs the other (a mkdir less on the dispatch path).
      const attemptDirReady = this.#o.store.attemptDir(this.#o.runId, name, state.attempt);
      attemptDirReady.catch(() => undefined); // awaited below; this only keeps an early throw from leaving it unhandled
      const secretEnv = this.#o.environment.secrets(secretNamesOf(resolved.task.options as Record<string, unknown>));
      this.#learnSecrets({ env, secretEnv });
      const jobName = jobNameFor(this.#o.runId, name, state.attempt);
      const [attemptDir] = await Promise.all([
        attemptDirReady,
        this.#journal({
          type: "attempt-planned",
          at: Date.now(),
          step: name,
          attempt: state.attempt,
          jobName,
          argv: [...resolved.command.argv],
          // Task `env` values under secret-looking names are recorded as "***" (the job gets them).
          parameters: redactOptions(state.resolvedOptions),
          queue: state.queue.name,
          ...(state.cacheKey ? { cacheKey: state.cacheKey } : {}),
        }),
      ]);
      state.spec = attemptSpec({ runId: this.#o.runId, planned: state.planned, queue: state.queue, attempt: state.attempt, argv: resolved.command.argv, env, secretEnv, attemptDir });
      state.result.attemptDir = attemptDir;
      return state;
    } catch (error) {
      // Launch-time errors (a placeholder with nothing to point at) are not retried: they would fail again.
      const reason = scrubText((error as Error).message, this.#secrets);
      await this.#journal({ type: "attempt-finished", at: Date.now(), step: name, attempt: state.attempt, status: "failed", exitCode: null, infrastructure: false, reason });
      this.#emit({ type: "step:failure", runId: this.#o.runId, step: name, attempt: state.attempt, reason, exitCode: null, willRetry: false, at: Date.now() });
      this.#stepFailed(state, null, reason, false);
      return undefined;
    }
  }

  #onJobUpdate(id: string, job: JobState): void {
    const state = this.#byJob.get(id);
    if (!state || state.jobId !== id || isDone(state.result.status)) return;
    if (job.status === "queued") {
      this.#onJobWaiting(state, job.reason ?? "");
    } else if (job.status === "running" && state.result.status !== "running") {
      if (state.waitReason) delete state.result.reason;
      delete state.waitReason;
      this.#setStatus(state, "running");
      state.result.startedAt = job.startedAt ?? Date.now();
      const name = state.planned.spec.name;
      void this.#track(this.#journal({ type: "job-started", at: Date.now(), step: name, attempt: state.attempt }));
      this.#emit({ type: "step:start", runId: this.#o.runId, step: name, attempt: state.attempt, jobId: id, at: Date.now() });
    } else if (isTerminal(job)) {
      this.#byJob.delete(id);
      void this.#onJobEnded(state, job).catch((e) => this.#fail(e));
    }
  }

  /**
   * A queued job's reason to wait changed (e.g. `waiting for GPU: GPU 0 held by run X step Y`):
   * journaled (so `status` and `watch` show it) and emitted as `step:waiting`; "" clears it.
   */
  #onJobWaiting(state: StepState, reason: string): void {
    if (state.result.status !== "queued" || reason === (state.waitReason ?? "")) return;
    state.waitReason = reason;
    if (reason) state.result.reason = reason;
    else delete state.result.reason;
    const name = state.planned.spec.name;
    void this.#journal({ type: "job-waiting", at: Date.now(), step: name, attempt: state.attempt, reason });
    this.#emit({ type: "step:waiting", runId: this.#o.runId, step: name, attempt: state.attempt, reason, at: Date.now() });
  }

  async #onJobEnded(state: StepState, job: JobState): Promise<void> {
    const name = state.planned.spec.name;
    state.result.endedAt = Date.now();
    if (state.result.startedAt !== undefined) state.result.durationMs = state.result.endedAt - state.result.startedAt;
    const backend = this.#o.environment.backend;
    await backend.collect(state.jobId!).catch(() => undefined);
    if (job.status === "succeeded") {
      let outputs: StepOutputs;
      try {
        const manifestFile = join(state.spec!.attemptDir, OUTPUTS_FILE);
        const manifest = await readOutputsManifest(manifestFile);
        const jobDir = state.jobDir ?? state.spec!.attemptDir;
        // Paths outside the attempt directory, or missing, fail the step (see checkManifestPaths).
        await checkManifestPaths(manifest, manifestFile, jobDir);
        outputs = await recordOutputs(this.#o.store, manifest, {
          runId: this.#o.runId,
          step: name,
          attempt: state.attempt,
          cluster: this.#o.environment.clusterName,
          jobDir,
        });
      } catch (error) {
        await this.#attemptFailed(state, 0, (error as Error).message, false);
        return;
      }
      // Not awaited before releasing the children: the journal is written in append order, so a
      // child's `attempt-planned` (awaited before its submission) is durable only once this line
      // is too. Both usually share one fsync (group commit) instead of costing one each on the
      // parent-exit → child-start path. The run does not finish before it is durable (#checkDone).
      const finished = this.#track(
        this.#journal({ type: "attempt-finished", at: Date.now(), step: name, attempt: state.attempt, status: "succeeded", exitCode: 0, infrastructure: false, reason: "", outputs }),
      );
      if (state.cacheKey) {
        await finished; // a cache entry never points at a success its own run has not recorded
        await this.#o.store.putCacheEntry({ key: state.cacheKey, runId: this.#o.runId, step: name, outputs, createdAt: new Date().toISOString() });
      }
      state.result.exitCode = 0;
      state.result.outputs = outputs;
      for (const hook of this.#hooks(name)) {
        await hook.postExecute?.({ runId: this.#o.runId, step: name, attempt: state.attempt, parameters: state.resolvedOptions ?? {}, outputs });
      }
      this.#emit({ type: "step:success", runId: this.#o.runId, step: name, attempt: state.attempt, outputs, cached: false, at: Date.now() });
      this.#finishStep(state, "succeeded", undefined, true);
      return;
    }
    if (job.status === "cancelled") {
      await this.#journal({ type: "attempt-finished", at: Date.now(), step: name, attempt: state.attempt, status: "cancelled", exitCode: null, infrastructure: false, reason: job.reason });
      this.#finishStep(state, "cancelled", this.#aborted ? this.#cancelReason : job.reason);
      return;
    }
    const exitCode = job.status === "failed" ? job.exitCode : null;
    const infrastructure = job.status === "lost" || (job.status === "failed" && job.infrastructure);
    const tail = await backend.logs(state.jobId!, { stream: "stderr", tailBytes: 2048 }).catch(() => "");
    const why = "reason" in job ? job.reason : job.status;
    // The tail is the job's own output: it may print its secrets; gpu-dag's copy of it must not hold them.
    const reason = scrubText(`${why}${state.jobId ? ` (job ${state.jobId})` : ""}${tail.trim() ? `; stderr tail:\n${tail.trimEnd()}` : ""}`, this.#secrets);
    await this.#attemptFailed(state, exitCode, reason, infrastructure, job.status === "lost");
  }

  /** Fails the attempt and the step at once, without retrying (the same submission would fail again). */
  async #failForGood(state: StepState, reason: string): Promise<void> {
    const name = state.planned.spec.name;
    await this.#journal({ type: "attempt-finished", at: Date.now(), step: name, attempt: state.attempt, status: "failed", exitCode: null, infrastructure: false, reason });
    this.#emit({ type: "step:failure", runId: this.#o.runId, step: name, attempt: state.attempt, reason, exitCode: null, willRetry: false, at: Date.now() });
    this.#stepFailed(state, null, reason, false);
  }

  async #attemptFailed(state: StepState, exitCode: number | null, reason: string, infrastructure: boolean, lost = false): Promise<void> {
    const name = state.planned.spec.name;
    await this.#journal({ type: "attempt-finished", at: Date.now(), step: name, attempt: state.attempt, status: lost ? "lost" : "failed", exitCode, infrastructure, reason });
    if (infrastructure) state.infraFailures += 1;
    else state.jobFailures += 1;
    const willRetry =
      !this.#aborted &&
      (infrastructure ? state.infraFailures <= (this.#o.infrastructureRetries ?? 2) : state.jobFailures <= (state.planned.spec.retryOnFailure ?? 0));
    this.#emit({ type: "step:failure", runId: this.#o.runId, step: name, attempt: state.attempt, reason, exitCode, willRetry, at: Date.now() });
    if (!willRetry) {
      this.#stepFailed(state, exitCode, reason, infrastructure);
      return;
    }
    // Exponential backoff with jitter, so retries of many steps do not hit the cluster at once.
    const base = this.#o.retryBackoffMs ?? 1000;
    const failures = infrastructure ? state.infraFailures : state.jobFailures;
    const delay = base * 2 ** (failures - 1) * (0.5 + Math.random() * 0.5);
    this.#setStatus(state, "queued");
    const timer = setTimeout(() => {
      this.#retryTimers.delete(timer);
      this.#active -= 1; // #markReady counts it again
      if (this.#aborted) {
        this.#active += 1;
        this.#finishStep(state, "cancelled", this.#cancelReason);
      } else this.#markReady(state);
    }, delay);
    this.#retryTimers.add(timer);
  }

  #stepFailed(state: StepState, exitCode: number | null, reason: string, infrastructure: boolean): void {
    state.result.exitCode = exitCode;
    state.result.infrastructure = infrastructure;
    const continueOnFail = state.planned.spec.continueOnFail === true;
    this.#finishStep(state, "failed", reason, continueOnFail);
    if (this.#o.abortOnFailure && !continueOnFail) this.#abort(`step "${state.planned.spec.name}" failed and abortOnFailure is set`);
  }

  /** Ends a step; `releaseChildren` lets its children run (success, or continueOnFail). */
  #finishStep(state: StepState, status: StepStatus, reason?: string, releaseChildren = false): void {
    this.#setStatus(state, status);
    if (reason !== undefined && status !== "succeeded") state.result.reason = reason;
    this.#active -= 1;
    if (releaseChildren) this.#releaseChildren(state, !this.#aborted);
    else for (const child of state.planned.children) this.#skip(this.#steps.get(child)!, `parent "${state.planned.spec.name}" ${status}`);
    this.#checkDone();
  }

  #releaseChildren(state: StepState, schedule: boolean): void {
    for (const child of state.planned.children) {
      const childState = this.#steps.get(child)!;
      childState.waitingParents -= 1;
      if (schedule && childState.waitingParents === 0 && childState.result.status === "pending") this.#markReady(childState);
    }
  }

  /** Skips a pending step (or, `fromQueued`, one its preExecute hook declined) and its descendants. */
  #skip(state: StepState, reason: string, fromQueued = false): void {
    if (state.result.status !== "pending" && !(fromQueued && state.result.status === "queued")) return;
    this.#setStatus(state, "skipped");
    state.result.reason = reason;
    const name = state.planned.spec.name;
    void this.#track(this.#journal({ type: "step-skipped", at: Date.now(), step: name, reason }));
    this.#emit({ type: "step:skipped", runId: this.#o.runId, step: name, reason, at: Date.now() });
    for (const child of state.planned.children) this.#skip(this.#steps.get(child)!, `ancestor "${name}" did not succeed`);
  }

  #abort(reason: string): void {
    if (this.#aborted || this.#finished) return;
    this.#aborted = true;
    this.#cancelReason = reason;
    for (const state of this.#steps.values()) {
      if (state.result.status === "pending") {
        this.#setStatus(state, "cancelled");
        state.result.reason = reason;
      }
    }
    const ids = [...this.#byJob.keys()];
    if (ids.length > 0) void this.#o.environment.backend.cancel(ids).catch((e) => this.#failOrFatal(e));
    this.#checkDone();
  }

  #checkDone(): void {
    if (this.#finished || this.#active > 0 || this.#ready.length > 0) return;
    if ([...this.#steps.values()].some((s) => s.result.status === "pending")) return;
    this.#finished = true;
    if (this.#runTimer) clearTimeout(this.#runTimer);
    const pending = [...this.#pending];
    // A skip is not a failure of its own: it follows a failed ancestor (which fails the run) or a
    // preExecute hook that chose to skip (which must not).
    const ok = (s: StepState) =>
      s.result.status === "succeeded" || s.result.status === "cached" || s.result.status === "skipped" || (s.result.status === "failed" && s.planned.spec.continueOnFail === true);
    const status: RunStatus =
      this.#fatalReason !== undefined ? "failed" : this.#aborted ? "cancelled" : [...this.#steps.values()].every(ok) ? "succeeded" : "failed";
    const reason = this.#fatalReason;
    void Promise.all(pending)
      .then(() => this.#journal({ type: "run-finished", at: Date.now(), status, ...(reason !== undefined ? { reason } : {}) }))
      .then(() => {
        this.#unsubscribe?.();
        this.#unsubscribeNotices?.();
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
    return {
      runId: this.#o.runId,
      projectName: spec.projectName,
      pipelineName: spec.pipelineName,
      status,
      steps,
      models,
      metrics,
      simulated,
      startedAt: this.#startedAt,
      endedAt: Date.now(),
      store: this.#o.store.location,
      ...(this.#fatalReason !== undefined ? { reason: this.#fatalReason } : {}),
    };
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

  #hooks(step: string): StepHooks[] {
    const hooks = this.#o.hooks ?? {};
    return [hooks["*"], hooks[step]].filter((h): h is StepHooks => h !== undefined);
  }

  #setStatus(state: StepState, status: StepStatus): void {
    const previous = state.result.status;
    state.result.status = status;
    if (previous === status) return;
    for (const hook of this.#hooks(state.planned.spec.name)) {
      try {
        hook.onStatusChange?.(state.planned.spec.name, status, previous);
      } catch {
        // A callback's bug must not break the run.
      }
    }
  }

  /** Keeps `write` until it settles (the run waits for it before finishing); a failure fails the run. */
  #track(write: Promise<void>): Promise<void> {
    this.#pending.add(write);
    write.then(
      () => this.#pending.delete(write),
      (error: unknown) => {
        this.#pending.delete(write);
        this.#fail(error);
      },
    );
    return write;
  }

  #journal(entry: JournalEntry): Promise<void> {
    // Every string is scrubbed of known secret values, except a planned argv: it is resubmitted
    // verbatim on resume, and a secret put literally into a command is the command's own.
    const scrubbed = scrubDeep(entry, this.#secrets);
    if (entry.type === "attempt-planned" && scrubbed.type === "attempt-planned") scrubbed.argv = entry.argv;
    return this.#o.store.appendJournal(this.#o.runId, scrubbed);
  }

  #emit(event: RunEvent): void {
    try {
      this.#o.onEvent?.(event);
    } catch {
      // A listener's bug must not break the run.
    }
  }

  /**
   * Ends the run at once with `error`: nothing more is submitted, running jobs are cancelled,
   * and `done` rejects with `error` once the cancellation has been sent.
   */
  fail(error: unknown): void {
    this.#fail(error);
  }

  /** Backend ids of this run's jobs that are submitted and not yet ended. */
  activeJobIds(): string[] {
    return [...this.#byJob.keys()];
  }

  #fail(error: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#aborted = true; // a submission in flight cancels what it submitted (#flush); retries end
    if (this.#runTimer) clearTimeout(this.#runTimer);
    for (const timer of this.#retryTimers) clearTimeout(timer);
    this.#retryTimers.clear();
    const ids = [...this.#byJob.keys()];
    const cancelled = ids.length > 0 ? this.#o.environment.backend.cancel(ids).catch(() => undefined) : Promise.resolve();
    void cancelled.then(() => {
      this.#unsubscribe?.();
      this.#unsubscribeNotices?.();
      this.#reject(error);
    });
  }

  #failOrFatal(error: unknown): void {
    const permanent = permanentErrorOf(error);
    if (permanent) this.#fatal(permanent);
    else this.#fail(error);
  }

  /** A backend notice: a refusal fails the run; an outage or its end is journaled and emitted. */
  #onNotice(notice: BackendNotice): void {
    if (notice.kind === "connection-refused") return this.#fatal(notice.error);
    if (this.#finished) return;
    const message = scrubText(describeNotice(notice), this.#secrets);
    const at = Date.now();
    void this.#track(this.#journal({ type: "backend-notice", at, kind: notice.kind, message }));
    this.#emit({ type: "run:notice", runId: this.#o.runId, kind: notice.kind, message, at });
  }

  /**
   * A permanent backend error (see the module comment): the run fails once, with the error's
   * message as its reason. Steps whose jobs were submitted can no longer be watched: they end here
   * without an end in the journal (the job may still run; a resume adopts it).
   */
  #fatal(error: GpuDagError): void {
    if (this.#fatalReason !== undefined || this.#finished) return;
    this.#fatalReason = scrubText(error.message, this.#secrets);
    for (const [id, state] of [...this.#byJob]) {
      this.#byJob.delete(id);
      if (!isDone(state.result.status)) {
        this.#finishStep(state, "failed", `no longer watched: ${refusal(error)}; job ${id} may still run (\`gpu-dag resume\` adopts it once this is fixed)`);
      }
    }
    this.#abort(`the run failed: ${refusal(error)}`);
  }
}

/** A permanent error in a few words, for step reasons (the run's reason has the full message). */
function refusal(error: GpuDagError): string {
  return `the cluster refused the connection (${error.code})`;
}

function isDone(status: StepStatus): boolean {
  return status === "succeeded" || status === "failed" || status === "skipped" || status === "cancelled" || status === "cached";
}

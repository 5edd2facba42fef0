/**
 * The local backend: jobs are process groups on this machine, each with its own GPUs from a
 * {@link GpuPool}. Jobs are started by a spawner (spawner.ts: a small helper process, so the
 * cost of a start does not grow with this process's memory), or forked from this process where
 * there is none. A job's end is an event (no polling) except for jobs adopted after a controller
 * restart, or whose spawner died before they ended: those are watched through /proc.
 *
 * GPUs are leased machine-wide (gpu-leases.ts): a GPU job's wrapper takes a `flock` on each of
 * its GPUs' lease files, on fds 4, 5, … opened for it, before anything else, so the job's own
 * process tree holds its GPUs against every other run, process and user until it ends; it counts
 * as `running` once it holds them (it says so on a pipe, fd 3). A wrapper that finds a lease
 * taken exits with {@link LEASE_BUSY_EXIT} having run nothing, and the job waits in the pool
 * again, keeping its place; while it waits on GPUs others hold, its state is `queued` with a
 * `reason` naming them (`waiting for GPU: GPU 0 held by run X step Y (pid N)`). An adopted job
 * still holds its leases; the pool also counts its devices as this run's.
 *
 * Every job runs under a small `sh` wrapper that writes the command's exit code to
 * `<attemptDir>/exit_code`, so a job that outlives its controller (or spawner) still reports how
 * it ended. At most one process runs an attempt: before running the command the wrapper creates
 * `<attemptDir>/claim` exclusively, holding its pid; a wrapper that finds the claim taken exits
 * with {@link DUPLICATE_EXIT} without running anything. A job started but not recorded in
 * `job.json` (its controller or spawner killed in between) is resubmitted by name by the next
 * one, and whichever of the two wrappers claims first runs; the backend follows the claimant.
 *
 * This class holds the jobs and their states; the parts live beside it: the wrapper and its
 * marker files (job-wrapper.ts, attempt-files.ts), starting a job (spawn-job.ts, spawner.ts), a
 * wrapper's end (wrapper-exit.ts), jobs we did not spawn (adoption.ts), the time limit
 * (time-limit.ts), process groups (process-group.ts) and logs (tail-file.ts).
 *
 * @module
 */
import { join } from "node:path";
import { BackendError } from "../../errors.js";
import {
  isTerminal,
  type JobSpec,
  type JobState,
  type JobUpdateListener,
  type LogOptions,
  type QueueBackend,
  STDERR_FILE,
  STDOUT_FILE,
  type SubmitOptions,
  type SubmittedJob,
} from "../queue-backend.js";
import { adoptJob, reattach } from "./adoption.js";
import { attemptStarted, settleSpawning } from "./attempt-files.js";
import { GpuLeases, resolveLeaseDir } from "./gpu-leases.js";
import { detectGpus, GpuPool } from "./gpu-pool.js";
import { holderFor, type LocalJob, type LocalJobHost } from "./local-job.js";
import { type LocalBackendOptions, SPAWNER_ENV } from "./local-options.js";
import { killGroup, terminateGroup } from "./process-group.js";
import { type JobEvents, spawnDirect, spawnThrough } from "./spawn-job.js";
import { findPython, Spawner } from "./spawner.js";
import { refuseUnfit } from "./submit-refusals.js";
import { tailFile } from "./tail-file.js";
import { limitSpawned } from "./time-limit.js";
import { type ExitHost, onWrapperExit } from "./wrapper-exit.js";

export { LEASE_BUSY_EXIT } from "./gpu-leases.js";
export { CLAIM_FILE, DUPLICATE_EXIT, EXIT_CODE_FILE, JOB_FILE } from "./job-wrapper.js";
export { type LocalBackendOptions, SPAWNER_ENV } from "./local-options.js";
export { tailFile } from "./tail-file.js";

/** See the module comment. */
export class LocalBackend implements QueueBackend {
  readonly kind = "local";
  readonly pool: GpuPool;
  readonly #jobs = new Map<string, LocalJob>();
  readonly #listeners = new Set<JobUpdateListener>();
  readonly #options: LocalBackendOptions;
  readonly #host: LocalJobHost;
  readonly #exitHost: ExitHost;
  /** Ended jobs, kept slim (their spec, env and inputs let go): what poll, logs and adopt need. */
  readonly #ended = new Map<string, { state: JobState; attemptDir: string }>();
  /** The `python3` for the spawner; `undefined`: jobs are forked directly. */
  #python: string | undefined;
  #spawner: Spawner | undefined;
  #closed = false;

  constructor(options: LocalBackendOptions = {}) {
    this.#options = options;
    const gpus = options.gpus;
    const devices = typeof gpus === "number" ? Array.from({ length: gpus }, (_, i) => String(i)) : (gpus ?? detectGpus());
    const leases = devices.length > 0 ? GpuLeases.for(resolveLeaseDir(options.leaseDir)) : undefined;
    this.pool = new GpuPool(devices, options.maxParallel, leases);
    this.#host = { pool: this.pool, killGraceMs: (options.killGraceSeconds ?? 5) * 1000, set: (id, job, state) => this.#set(id, job, state) };
    this.#exitHost = { ...this.#host, closed: () => this.#closed, requeue: (id, job) => this.#wait(id, job) };
    const mode = options.spawner ?? process.env[SPAWNER_ENV];
    this.#python = mode === "direct" ? undefined : findPython();
    // Started now, so the interpreter's start-up (tens of ms) overlaps with the run's, not its
    // first job's. Idle, it holds nothing up: it ends with this process or close().
    if (this.#python !== undefined) this.#spawner = Spawner.shared(this.#python);
  }

  /** Whether jobs are started by a spawner (else forked from this process). */
  get usesSpawner(): boolean {
    return this.#python !== undefined;
  }

  /** The pid of the current spawner, once one runs (for tests that kill it). */
  get spawnerPid(): number | undefined {
    return this.#spawner?.alive ? this.#spawner.pid : undefined;
  }

  async submit(jobs: readonly JobSpec[], options: SubmitOptions = {}): Promise<SubmittedJob[]> {
    if (options.reuseExisting) {
      // A job started by a crashed controller left job.json / exit_code in its attempt directory.
      const fresh: JobSpec[] = [];
      for (const spec of jobs) {
        // A spawner (of a controller before us) that was asked to start it records the start first.
        await settleSpawning(spec.attemptDir);
        const started = await attemptStarted(spec.attemptDir);
        if (started || this.#jobs.has(spec.jobName) || this.#ended.has(spec.jobName)) await this.adopt(spec, spec.jobName);
        else fresh.push(spec);
      }
      await this.submit(fresh);
      return jobs.map((spec) => ({ jobName: spec.jobName, backendJobId: spec.jobName }));
    }
    refuseUnfit(jobs, this.pool);
    return this.pool.batch(() =>
      jobs.map((spec) => {
        const id = spec.jobName;
        const job: LocalJob = { spec, state: { status: "queued" } };
        this.#jobs.set(id, job);
        this.#wait(id, job);
        return { jobName: spec.jobName, backendJobId: id };
      }),
    );
  }

  /** Queues `job` in the pool (again, after a busy lease, in its old place). */
  #wait(id: string, job: LocalJob): void {
    const { spec } = job;
    job.holder ??= holderFor(spec);
    const { promise, cancel, seq } = this.pool.acquire(spec.resources.gpus, spec.priority, {
      holder: job.holder,
      ...(job.seq !== undefined ? { seq: job.seq } : {}),
      onWait: (reason) => {
        if (job.state.status === "queued") this.#set(id, job, reason === undefined ? { status: "queued" } : { status: "queued", reason });
      },
    });
    job.seq = seq;
    job.cancelWait = cancel;
    void promise.then((devices) => this.#launch(id, job, devices));
  }

  #launch(id: string, job: LocalJob, devices: string[], direct = false): void {
    try {
      this.#start(id, job, devices, direct);
    } catch (error) {
      // E.g. job.json could not be written (attempt directory removed with the store): a job
      // nobody could adopt must not run on unrecorded; it ends failed instead of crashing us.
      killGroup(job, "SIGKILL");
      this.pool.release(devices);
      this.#set(id, job, { status: "failed", exitCode: null, signal: null, infrastructure: true, reason: `could not start: ${(error as Error).message}` });
    }
  }

  async poll(ids: readonly string[]): Promise<Map<string, JobState>> {
    return new Map(ids.map((id) => [id, this.#jobs.get(id)?.state ?? this.#ended.get(id)?.state ?? { status: "lost", reason: "unknown to this local backend" }]));
  }

  onUpdate(listener: JobUpdateListener): () => void {
    // Whoever listens is about to submit (a run's controller, as it starts): a spawner that ended
    // meanwhile is replaced now rather than at the first job.
    if (this.#python !== undefined && !this.#closed && !this.#spawner?.alive) this.#spawner = Spawner.shared(this.#python);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async cancel(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const job = this.#jobs.get(id);
      if (!job || (job.state.status !== "queued" && job.state.status !== "running")) continue;
      job.cancelRequested = true;
      if (job.state.status === "queued" && job.cancelWait?.()) {
        this.#set(id, job, { status: "cancelled", reason: "cancelled before it started" });
        continue;
      }
      terminateGroup(job, this.#host.killGraceMs);
    }
  }

  async logs(id: string, options: LogOptions = {}): Promise<string> {
    const dir = this.#jobs.get(id)?.spec.attemptDir ?? this.#ended.get(id)?.attemptDir;
    if (dir === undefined) throw new BackendError("local", `no local job "${id}"`);
    return tailFile(join(dir, options.stream === "stderr" ? STDERR_FILE : STDOUT_FILE), options.tailBytes ?? 64 * 1024);
  }

  async collect(): Promise<void> {
    // Jobs write straight into their attempt directory: nothing to bring back.
  }

  async adopt(spec: JobSpec, backendJobId: string): Promise<JobState> {
    const existing = this.#jobs.get(backendJobId) ?? this.#ended.get(backendJobId);
    if (existing) return existing.state;
    if ((await settleSpawning(spec.attemptDir)) === "uncertain") {
      // Handed to a spawner that died before it recorded the start: start it again, by name and
      // under the same claim (if that spawner did start a wrapper, one of the two runs the command).
      await this.submit([spec]);
      return this.#jobs.get(spec.jobName)?.state ?? { status: "queued" };
    }
    const job: LocalJob = { spec, state: { status: "lost", reason: "job was never started" } };
    this.#jobs.set(backendJobId, job);
    return adoptJob(this.#host, backendJobId, job);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#spawner?.release(this);
    this.pool.close();
    for (const job of this.#jobs.values()) {
      if (job.timer) clearInterval(job.timer);
      if (job.limitTimer) clearTimeout(job.limitTimer);
    }
    this.#listeners.clear();
  }

  #start(id: string, job: LocalJob, devices: string[], direct: boolean): void {
    if (this.#closed || job.cancelRequested) {
      this.pool.release(devices);
      // Cancelled after its GPUs were granted but before it started (cancel() found no waiter to
      // remove and no process to kill): it still has to end, or whoever waits for it waits forever.
      if (job.cancelRequested) this.#set(id, job, { status: "cancelled", reason: "cancelled before it started" });
      return;
    }
    job.devices = devices;
    limitSpawned(job, this.#host.killGraceMs);
    const events = this.#events(id, job, devices);
    const python = direct ? undefined : this.#python;
    if (python === undefined) {
      spawnDirect(job, devices, this.pool.leases, this.#options.pythonPath, events);
      return;
    }
    if (!this.#spawner?.alive) this.#spawner = Spawner.shared(python);
    spawnThrough(this.#spawner, job, devices, this.pool.leases, this.#options.pythonPath, events, this);
  }

  /** What becomes of job `id` (on `devices`) as its start reports back. */
  #events(id: string, job: LocalJob, devices: string[]): JobEvents {
    const locked = this.pool.leases !== undefined && devices.length > 0;
    return {
      // Cancelled or timed out before its spawner said which pid it got: its group goes now.
      pid: () => {
        if (job.cancelRequested || job.timedOut) terminateGroup(job, this.#host.killGraceMs);
      },
      running: (startedAt) => {
        if (job.state.status === "queued") this.#set(id, job, { status: "running", startedAt, node: "localhost" });
      },
      failed: (message) => {
        if (job.limitTimer) clearTimeout(job.limitTimer);
        this.pool.release(devices);
        this.#set(id, job, { status: "failed", exitCode: null, signal: null, infrastructure: true, reason: `could not start: ${message}` });
      },
      exited: (code, signal) => onWrapperExit(this.#exitHost, id, job, devices, locked, code, signal),
      orphaned: () => void this.#orphaned(id, job, devices),
      unavailable: (unusable) => {
        if (unusable) this.#python = undefined; // no usable spawner here: fork directly from now on
        if (job.limitTimer) clearTimeout(job.limitTimer);
        this.#launch(id, job, devices, true);
      },
    };
  }

  /** The spawner died before `job` ended: watch the job as an adopted one, or start it again. */
  async #orphaned(id: string, job: LocalJob, devices: string[]): Promise<void> {
    if (this.#closed) return;
    job.adoptedDevices = devices; // still held for it; released when it ends (#set)
    if ((await reattach(this.#host, id, job)) !== "not-started") return;
    job.adoptedDevices = undefined;
    delete job.pid;
    this.#launch(id, job, devices);
  }

  #set(id: string, job: LocalJob, state: JobState): void {
    job.state = state;
    if (job.adoptedDevices && isTerminal(state)) {
      this.pool.release(job.adoptedDevices);
      job.adoptedDevices = undefined;
    }
    if (isTerminal(state) && this.#jobs.get(id) === job) {
      // Its spec (argv, env, secrets, input files) is not needed any more: keep what poll,
      // logs and a repeated adopt ask for.
      this.#jobs.delete(id);
      this.#ended.set(id, { state, attemptDir: job.spec.attemptDir });
    } else if (!this.#jobs.has(id) && this.#ended.has(id)) this.#ended.set(id, { state, attemptDir: job.spec.attemptDir });
    for (const listener of [...this.#listeners]) {
      try {
        listener(id, state);
      } catch {
        // A listener's failure is its own: the job's exit must still reach every other listener,
        // and (called from a child process event) it must not become an uncaught exception.
      }
    }
  }
}

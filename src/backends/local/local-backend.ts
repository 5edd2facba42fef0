/**
 * The local backend: jobs are process groups on this machine, each with its own GPUs from a
 * {@link GpuPool}. Process exit is an event (no polling) except for jobs adopted after a
 * controller restart, which are watched through /proc.
 *
 * GPUs are leased machine-wide (gpu-leases.ts): a GPU job's wrapper takes a `flock` on each of
 * its GPUs' lease files, on fds 4, 5, … that this backend opens for it, before anything else, so
 * the job's own process tree holds its GPUs against every other run, process and user until it
 * ends; it counts as `running` once it holds them (it says so on a pipe, fd 3). A wrapper that
 * finds a lease taken (another controller raced it there) exits with {@link LEASE_BUSY_EXIT}
 * having run nothing, and the job waits in the pool again, keeping its place. While it waits on GPUs others hold, its state is `queued` with a `reason` naming them
 * (`waiting for GPU: GPU 0 held by run X step Y (pid N)`). An adopted job still holds its leases
 * (its processes hold the locks); the pool also counts its devices as this run's.
 *
 * Every job runs under a small `sh` wrapper that writes the command's exit code to
 * `<attemptDir>/exit_code`, so a job that outlives its controller still reports how it ended.
 *
 * At most one process runs an attempt: before running the command the wrapper creates
 * `<attemptDir>/claim` exclusively (`set -C`, O_EXCL), holding its pid, and a wrapper that finds
 * the claim taken exits at once with {@link DUPLICATE_EXIT} without running anything. A
 * controller killed after forking a job but before recording its pid in `job.json` leaves a job
 * that nobody knows of; the next controller resubmits the attempt by name, and whichever of the
 * two wrappers claims first runs, while the backend follows the claimant (found by its pid).
 *
 * This class holds the jobs and their states; the parts live beside it: the wrapper and its
 * marker files (job-wrapper.ts, attempt-files.ts), forking a job (spawn-job.ts), jobs we did not
 * spawn (adoption.ts), the time limit (time-limit.ts), process groups (process-group.ts) and logs
 * (tail-file.ts).
 *
 * @module
 */
import { join } from "node:path";
import { BackendError, type JobRefusal } from "../../errors.js";
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
  timeLimitReason,
} from "../queue-backend.js";
import { adoptJob, followClaimant } from "./adoption.js";
import { attemptStarted, claimedBy, forgetStart } from "./attempt-files.js";
import { GpuLeases, hasFlock, LEASE_BUSY_EXIT, NOTIFY_FD, resolveLeaseDir } from "./gpu-leases.js";
import { detectGpus, GpuPool } from "./gpu-pool.js";
import { DUPLICATE_EXIT } from "./job-wrapper.js";
import { exitState, holderFor, type LocalJob, type LocalJobHost } from "./local-job.js";
import { groupGone, killGroup, terminateGroup } from "./process-group.js";
import { spawnJob } from "./spawn-job.js";
import { tailFile } from "./tail-file.js";
import { limitSpawned } from "./time-limit.js";

/** Options of {@link LocalBackend}. */
export interface LocalBackendOptions {
  /** GPU ids in the pool (default: detected). A number means ids `0..n-1`. */
  gpus?: readonly string[] | number;
  /** Most jobs running at once (default: unlimited; GPUs still bound GPU jobs). */
  maxParallel?: number;
  /** Directory put first on PYTHONPATH so `gpu_dag_runtime` imports (the package's `python/`). */
  pythonPath?: string;
  /** Seconds between SIGTERM and SIGKILL when cancelling (default 5). */
  killGraceSeconds?: number;
  /**
   * The machine-wide GPU lease directory (default: `$GPU_DAG_LEASE_DIR`, else
   * `/tmp/gpu-dag-leases`). Every controller on the machine must use the same one.
   */
  leaseDir?: string;
}

export { LEASE_BUSY_EXIT } from "./gpu-leases.js";
export { CLAIM_FILE, DUPLICATE_EXIT, EXIT_CODE_FILE, JOB_FILE } from "./job-wrapper.js";
export { tailFile } from "./tail-file.js";

/** See the module comment. */
export class LocalBackend implements QueueBackend {
  readonly kind = "local";
  readonly pool: GpuPool;
  readonly #jobs = new Map<string, LocalJob>();
  readonly #listeners = new Set<JobUpdateListener>();
  readonly #options: LocalBackendOptions;
  readonly #host: LocalJobHost;
  #closed = false;

  constructor(options: LocalBackendOptions = {}) {
    this.#options = options;
    const gpus = options.gpus;
    const devices = typeof gpus === "number" ? Array.from({ length: gpus }, (_, i) => String(i)) : (gpus ?? detectGpus());
    const leases = devices.length > 0 ? GpuLeases.for(resolveLeaseDir(options.leaseDir)) : undefined;
    this.pool = new GpuPool(devices, options.maxParallel, leases);
    this.#host = { pool: this.pool, killGraceMs: (options.killGraceSeconds ?? 5) * 1000, set: (id, job, state) => this.#set(id, job, state) };
  }

  async submit(jobs: readonly JobSpec[], options: SubmitOptions = {}): Promise<SubmittedJob[]> {
    if (options.reuseExisting) {
      // A job started by a crashed controller left job.json / exit_code in its attempt directory.
      const fresh: JobSpec[] = [];
      for (const spec of jobs) {
        const started = await attemptStarted(spec.attemptDir);
        if (started || this.#jobs.has(spec.jobName)) await this.adopt(spec, spec.jobName);
        else fresh.push(spec);
      }
      await this.submit(fresh);
      return jobs.map((spec) => ({ jobName: spec.jobName, backendJobId: spec.jobName }));
    }
    // Every job at fault is named with its own reason; the others of the batch are not submitted
    // either (the runner submits them again), so nothing is left half done.
    const refused = new Map<string, JobRefusal>();
    for (const spec of jobs) {
      if (spec.resources.gpus * spec.resources.nodes > this.pool.size) {
        // Permanent: the pool does not grow, so a retry would fail the same way.
        const reason = `step "${spec.step}" (queue "${spec.queue}") asks for ${spec.resources.gpus} GPU(s) but this machine's pool has ${this.pool.size}; set gpus in the local cluster config or use a smaller queue`;
        refused.set(spec.jobName, { reason, permanent: true });
      } else if (spec.resources.gpus > 0 && !hasFlock()) {
        refused.set(spec.jobName, { reason: `step "${spec.step}" needs GPUs, and GPU leases need flock(1) (util-linux) on PATH, which is not there`, permanent: true });
      }
    }
    if (refused.size > 0) {
      const reasons = [...refused.values()].map((r) => r.reason);
      throw new BackendError("local", reasons.length === 1 ? reasons[0]! : `${reasons.length} of ${jobs.length} jobs refused: ${reasons.join("; ")}`, {
        permanent: true,
        refused,
      });
    }
    return jobs.map((spec) => {
      const id = spec.jobName;
      const job: LocalJob = { spec, state: { status: "queued" } };
      this.#jobs.set(id, job);
      this.#wait(id, job);
      return { jobName: spec.jobName, backendJobId: id };
    });
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
    void promise.then((devices) => {
      try {
        this.#start(id, job, devices);
      } catch (error) {
        // E.g. job.json could not be written (attempt directory removed with the store): a job
        // nobody could adopt must not run on unrecorded; it ends failed instead of crashing us.
        killGroup(job, "SIGKILL");
        this.pool.release(devices);
        this.#set(id, job, { status: "failed", exitCode: null, signal: null, infrastructure: true, reason: `could not start: ${(error as Error).message}` });
      }
    });
  }

  async poll(ids: readonly string[]): Promise<Map<string, JobState>> {
    return new Map(ids.map((id) => [id, this.#jobs.get(id)?.state ?? { status: "lost", reason: "unknown to this local backend" }]));
  }

  onUpdate(listener: JobUpdateListener): () => void {
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
    const job = this.#jobs.get(id);
    if (!job) throw new BackendError("local", `no local job "${id}"`);
    return tailFile(join(job.spec.attemptDir, options.stream === "stderr" ? STDERR_FILE : STDOUT_FILE), options.tailBytes ?? 64 * 1024);
  }

  async collect(): Promise<void> {
    // Jobs write straight into their attempt directory: nothing to bring back.
  }

  async adopt(spec: JobSpec, backendJobId: string): Promise<JobState> {
    const existing = this.#jobs.get(backendJobId);
    if (existing) return existing.state;
    const job: LocalJob = { spec, state: { status: "lost", reason: "job was never started" } };
    this.#jobs.set(backendJobId, job);
    return adoptJob(this.#host, backendJobId, job);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.pool.close();
    for (const job of this.#jobs.values()) {
      if (job.timer) clearInterval(job.timer);
      if (job.limitTimer) clearTimeout(job.limitTimer);
    }
    this.#listeners.clear();
  }

  #start(id: string, job: LocalJob, devices: string[]): void {
    if (this.#closed || job.cancelRequested) {
      this.pool.release(devices);
      // Cancelled after its GPUs were granted but before it started (cancel() found no waiter to
      // remove and no process to kill): it still has to end, or whoever waits for it waits forever.
      if (job.cancelRequested) this.#set(id, job, { status: "cancelled", reason: "cancelled before it started" });
      return;
    }
    job.devices = devices;
    const { spec } = job;
    // Throws when it cannot start (e.g. its attempt directory was removed with the store): #wait
    // then ends the job failed.
    const { child, locked, startedAt } = spawnJob(job, devices, this.pool.leases, this.#options.pythonPath);
    const notify = locked.length > 0 ? child.stdio[NOTIFY_FD] : undefined;
    if (notify) {
      // Running once its wrapper holds every lease; a wrapper that found one taken never says so.
      notify.once("data", () => {
        if (job.state.status === "queued") this.#set(id, job, { status: "running", startedAt: Date.now(), node: "localhost" });
      });
      notify.on("error", () => undefined);
    } else {
      child.once("spawn", () => {
        this.#set(id, job, { status: "running", startedAt, node: "localhost" });
      });
    }
    child.once("error", (error) => {
      this.pool.release(devices);
      this.#set(id, job, { status: "failed", exitCode: null, signal: null, infrastructure: true, reason: `could not start: ${error.message}` });
    });
    limitSpawned(job, child, this.#host.killGraceMs);
    child.once("exit", (code, signal) => {
      if (code === LEASE_BUSY_EXIT && locked.length > 0 && !job.cancelRequested && !job.timedOut && !claimedBy(spec.attemptDir, child.pid)) {
        // Another holder took one of its GPUs after the pool saw it free: the wrapper ran nothing
        // (it locks before it claims; a command of its own exiting 87 ran under its claim).
        // Forget the start (a controller crashing now must not adopt a dead wrapper as "lost")
        // and wait again, in the same place.
        forgetStart(spec.attemptDir);
        delete job.pid;
        this.pool.release(devices, { busy: true });
        if (this.#closed) return;
        this.#wait(id, job);
        return;
      }
      this.pool.release(devices);
      if (code === DUPLICATE_EXIT && !job.cancelRequested && !job.timedOut) {
        // Another process (started by a controller that died before recording it) claimed this
        // attempt first: ours ran nothing. Follow the claimant instead.
        void followClaimant(this.#host, id, job, child.pid);
        return;
      }
      if (job.cancelRequested || job.timedOut) {
        // The wrapper is gone, but what it started may ignore SIGTERM: the job has ended only once
        // its whole process group has (SIGKILL follows after the grace period).
        void groupGone(child.pid).then(() => {
          if (job.cancelRequested) this.#set(id, job, { status: "cancelled", reason: "cancelled while running" });
          else this.#set(id, job, { status: "failed", exitCode: code, signal, infrastructure: false, reason: timeLimitReason(spec.resources.timeLimitSeconds), endedAt: Date.now() });
        });
      } else this.#set(id, job, exitState(code, signal, false));
    });
  }

  #set(id: string, job: LocalJob, state: JobState): void {
    job.state = state;
    if (job.adoptedDevices && isTerminal(state)) {
      this.pool.release(job.adoptedDevices);
      job.adoptedDevices = undefined;
    }
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

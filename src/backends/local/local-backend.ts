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
 * @module
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { userInfo } from "node:os";
import { shellQuote } from "../../args/shell-quote.js";
import { BackendError, type JobRefusal } from "../../errors.js";
import {
  isTerminal,
  type JobSpec,
  type JobState,
  type JobUpdateListener,
  type LogOptions,
  type QueueBackend,
  STDERR_FILE,
  type SubmitOptions,
  STDOUT_FILE,
  type SubmittedJob,
  timeLimitReason,
} from "../queue-backend.js";
import { GpuLeases, hasFlock, LEASE_BUSY_EXIT, type LeaseHolder, leaseScript, lockOrder, NOTIFY_FD, resolveLeaseDir } from "./gpu-leases.js";
import { jobEnvironment } from "../job-environment.js";
import { detectGpus, GpuPool } from "./gpu-pool.js";
import { isSameProcess, processStartTime } from "./process-info.js";

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

/** The file holding the exit code the wrapper wrote. */
export const EXIT_CODE_FILE = "exit_code";
/** The file recording pid and start time of a started job. */
export const JOB_FILE = "job.json";
/** The file a job's wrapper creates exclusively, holding its pid, before it runs the command. */
export const CLAIM_FILE = "claim";
/** Exit code of a wrapper that found its attempt already claimed by another process (it ran nothing). */
export const DUPLICATE_EXIT = 86;

// Only the job itself is forked: the claim is a `{ …; }` group (a failed redirection there is not
// fatal and needs no subshell), and the exit code is written in place, as one write of a few bytes
// (no `mv` process). A reader that catches it truncated but unwritten sees "" = no code yet; the
// wrapper is then still alive, so it is watched and read again once gone. Each saved fork was
// ~3–5 ms of the parent-exit → child-start path on the benchmark VM (bench/dispatch-latency.ts).
// GPU jobs get the lease step of gpu-leases.ts in front: one `flock` process per GPU, the only
// fork added (Node cannot flock, and a lock taken anywhere but in the job's own tree would not
// die with the job).
const WRAPPER =
  `set -C; { printf "%s" "$$" > "$GPU_DAG_OUTPUT_DIR/${CLAIM_FILE}"; } 2>/dev/null || exit ${DUPLICATE_EXIT}; set +C; ` +
  'code=0; "$@" || code=$?; printf "%s" "$code" > "$GPU_DAG_OUTPUT_DIR/exit_code"; exit "$code"';

interface LocalJob {
  spec: JobSpec;
  state: JobState;
  pid?: number;
  devices?: string[];
  /** Devices of an adopted job, held in the pool until it ends. */
  adoptedDevices?: string[] | undefined;
  cancelWait?: () => boolean;
  timer?: NodeJS.Timeout;
  cancelRequested?: boolean;
  timedOut?: boolean;
  /** Time-limit timer of a job this instance did not spawn (adopted, or a claimant followed). */
  limitTimer?: NodeJS.Timeout;
  /** Who holds this job's GPUs, for waiters elsewhere; `pid` set once spawned. */
  holder?: LeaseHolder;
  /** The job's place in the pool, kept when it waits again after its wrapper found a GPU taken. */
  seq?: number;
}

/** See the module comment. */
export class LocalBackend implements QueueBackend {
  readonly kind = "local";
  readonly pool: GpuPool;
  readonly #jobs = new Map<string, LocalJob>();
  readonly #listeners = new Set<JobUpdateListener>();
  readonly #options: LocalBackendOptions;
  #closed = false;

  constructor(options: LocalBackendOptions = {}) {
    this.#options = options;
    const gpus = options.gpus;
    const devices = typeof gpus === "number" ? Array.from({ length: gpus }, (_, i) => String(i)) : (gpus ?? detectGpus());
    const leases = devices.length > 0 ? GpuLeases.for(resolveLeaseDir(options.leaseDir)) : undefined;
    this.pool = new GpuPool(devices, options.maxParallel, leases);
  }

  async submit(jobs: readonly JobSpec[], options: SubmitOptions = {}): Promise<SubmittedJob[]> {
    if (options.reuseExisting) {
      // A job started by a crashed controller left job.json / exit_code in its attempt directory.
      const fresh: JobSpec[] = [];
      for (const spec of jobs) {
        const started = (await exists(join(spec.attemptDir, JOB_FILE))) || (await exists(join(spec.attemptDir, CLAIM_FILE)));
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
    job.holder ??= { runId: spec.runId, step: spec.step, attempt: spec.attempt, user: currentUser() };
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
        this.#killGroup(job, "SIGKILL");
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
    const grace = (this.#options.killGraceSeconds ?? 5) * 1000;
    for (const id of ids) {
      const job = this.#jobs.get(id);
      if (!job || (job.state.status !== "queued" && job.state.status !== "running")) continue;
      job.cancelRequested = true;
      if (job.state.status === "queued" && job.cancelWait?.()) {
        this.#set(id, job, { status: "cancelled", reason: "cancelled before it started" });
        continue;
      }
      this.#killGroup(job, "SIGTERM");
      const timer = setTimeout(() => this.#killGroup(job, "SIGKILL"), grace);
      timer.unref();
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
    const exit = await readExitCode(spec.attemptDir);
    if (exit !== undefined) {
      job.state = exitState(exit, null, false);
      return job.state;
    }
    const live = await liveProcess(spec.attemptDir);
    if (live) {
      job.pid = live.pid;
      job.state = { status: "running" };
      // Its processes still hold its GPUs' leases; count them as this run's too, so the pool does
      // not hand them to one of its own jobs (whose wrapper would only find them taken).
      job.adoptedDevices = this.pool.claim((await readJobFile(spec.attemptDir))?.devices ?? [], {
        runId: spec.runId,
        step: spec.step,
        attempt: spec.attempt,
        user: currentUser(),
        pid: live.pid,
      });
      this.#watchAdopted(backendJobId, job, live);
      await this.#limitAdopted(job);
      return job.state;
    }
    const late = await readExitCode(spec.attemptDir); // it may have ended while we looked
    if (late !== undefined) {
      job.state = exitState(late, null, false);
      return job.state;
    }
    const record = await readJobFile(spec.attemptDir);
    job.state = { status: "lost", reason: record ? `process ${record.pid} is gone and left no exit code` : "job never started (no pid recorded)" };
    return job.state;
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
    const leases = this.pool.leases;
    const locked = leases && devices.length > 0 ? lockOrder(devices) : [];
    let lockFds: number[] = [];
    let out: number | undefined;
    let err: number | undefined;
    try {
      lockFds = locked.map((d) => leases!.openLock(d));
      out = openSync(join(spec.attemptDir, STDOUT_FILE), "a");
      err = openSync(join(spec.attemptDir, STDERR_FILE), "a");
    } catch (error) {
      // E.g. the attempt directory was removed with the store: the job cannot start (and no fd stays open).
      for (const fd of [...lockFds, out, err]) if (fd !== undefined) closeSync(fd);
      this.pool.release(devices);
      this.#set(id, job, { status: "failed", exitCode: null, signal: null, infrastructure: true, reason: `could not start: ${(error as Error).message}` });
      return;
    }
    const script = (leases && locked.length > 0 ? leaseScript(leases, locked, job.holder ?? { runId: spec.runId, step: spec.step, attempt: spec.attempt, user: currentUser() }, shellQuote) : "") + WRAPPER;
    const pythonPath = [this.#options.pythonPath, process.env["PYTHONPATH"]].filter(Boolean).join(":");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...spec.env,
      ...spec.secretEnv,
      CUDA_VISIBLE_DEVICES: devices.join(","),
      ...jobEnvironment(spec, spec.attemptDir),
      ...(pythonPath ? { PYTHONPATH: pythonPath } : {}),
    };
    let child;
    try {
      child = spawn("/bin/sh", ["-c", script, "gpu-dag-job", ...spec.argv], {
        cwd: spec.attemptDir,
        env,
        detached: true, // own process group: cancel kills the job and everything it started
        // A GPU job: the "leases held" pipe on fd 3, lease files on fds 4, 5, … (only the job's
        // tree keeps them open: ours close below).
        stdio: lockFds.length > 0 ? ["ignore", out, err, "pipe", ...lockFds] : ["ignore", out, err],
      });
    } finally {
      for (const fd of [out, err, ...lockFds]) closeSync(fd);
    }
    const startedAt = Date.now();
    if (child.pid !== undefined) {
      // Recorded synchronously, before anything else can happen: a controller killed from here on
      // can still find (adopt) this job instead of running it twice.
      job.pid = child.pid;
      if (job.holder) job.holder.pid = child.pid;
      writeFileSync(join(spec.attemptDir, JOB_FILE), JSON.stringify({ pid: child.pid, startTime: processStartTime(child.pid), devices }));
    }
    const notify = lockFds.length > 0 ? child.stdio[NOTIFY_FD] : undefined;
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
    if (spec.resources.timeLimitSeconds !== undefined) {
      const limit = setTimeout(() => {
        job.timedOut = true;
        this.#killGroup(job, "SIGTERM");
        setTimeout(() => this.#killGroup(job, "SIGKILL"), (this.#options.killGraceSeconds ?? 5) * 1000).unref();
      }, spec.resources.timeLimitSeconds * 1000);
      limit.unref();
      child.once("exit", () => clearTimeout(limit));
    }
    child.once("exit", (code, signal) => {
      if (code === LEASE_BUSY_EXIT && locked.length > 0 && !job.cancelRequested && !job.timedOut && !claimedBy(spec.attemptDir, child.pid)) {
        // Another holder took one of its GPUs after the pool saw it free: the wrapper ran nothing
        // (it locks before it claims; a command of its own exiting 87 ran under its claim).
        // Forget the start (a controller crashing now must not adopt a dead wrapper as "lost")
        // and wait again, in the same place.
        rmSync(join(spec.attemptDir, JOB_FILE), { force: true });
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
        void this.#followClaimant(id, job, child.pid);
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

  #watchAdopted(id: string, job: LocalJob, record: ProcessRecord): void {
    // Not our child: no exit event. Watch /proc, then read the wrapper's exit code.
    job.timer = setInterval(() => {
      if (isSameProcess(record.pid, record.startTime)) return;
      clearInterval(job.timer);
      void (async () => {
        if (job.limitTimer) clearTimeout(job.limitTimer);
        // Killed by cancel() or the time limit: the wrapper died with it and wrote no exit code. Not "lost".
        if (job.cancelRequested) return this.#set(id, job, { status: "cancelled", reason: "cancelled while running" });
        if (job.timedOut) {
          const limit = job.spec.resources.timeLimitSeconds;
          return this.#set(id, job, { status: "failed", exitCode: null, signal: null, infrastructure: false, reason: timeLimitReason(limit), endedAt: Date.now() });
        }
        const code = await readExitCode(job.spec.attemptDir);
        if (code !== undefined) return this.#set(id, job, exitState(code, null, false));
        // A wrapper watched before it claimed may have been the duplicate: follow the claimant.
        const live = await liveProcess(job.spec.attemptDir);
        if (live && live.pid !== record.pid) {
          job.pid = live.pid;
          return this.#watchAdopted(id, job, live);
        }
        this.#set(id, job, { status: "lost", reason: `process ${record.pid} ended without an exit code` });
      })();
    }, 200);
    // Not unref'd: like a child's handle, the watch keeps the process alive until the job ends
    // (or close()). A resumed controller whose only work is adopted jobs must wait for them.
  }

  /**
   * The time limit of a job we did not spawn, counted from when its wrapper claimed the attempt
   * (the claim file's mtime): a controller crash must not lift a step's limit.
   */
  async #limitAdopted(job: LocalJob): Promise<void> {
    const limit = job.spec.resources.timeLimitSeconds;
    if (limit === undefined) return;
    const started = (await stat(join(job.spec.attemptDir, CLAIM_FILE)).catch(() => stat(join(job.spec.attemptDir, JOB_FILE))).catch(() => undefined))?.mtimeMs ?? Date.now();
    job.limitTimer = setTimeout(() => {
      if (job.state.status !== "running") return;
      job.timedOut = true;
      this.#killGroup(job, "SIGTERM");
      setTimeout(() => this.#killGroup(job, "SIGKILL"), (this.#options.killGraceSeconds ?? 5) * 1000).unref();
    }, Math.max(0, started + limit * 1000 - Date.now()));
    job.limitTimer.unref();
  }

  /** Our wrapper was a duplicate: watch the process that holds the claim, or take its result. */
  async #followClaimant(id: string, job: LocalJob, ownPid: number | undefined): Promise<void> {
    const live = await liveProcess(job.spec.attemptDir);
    if (live && live.pid !== ownPid) {
      job.pid = live.pid;
      // job.json names our duplicate (now gone): record the claimant, for controllers after us.
      writeFileSync(join(job.spec.attemptDir, JOB_FILE), JSON.stringify({ pid: live.pid, startTime: live.startTime, devices: [] }));
      this.#watchAdopted(id, job, live);
      await this.#limitAdopted(job);
      return;
    }
    const code = await readExitCode(job.spec.attemptDir);
    this.#set(id, job, code === undefined ? { status: "lost", reason: "attempt claimed by another process that left no exit code" } : exitState(code, null, false));
  }

  #killGroup(job: LocalJob, signal: NodeJS.Signals): void {
    if (job.pid === undefined) return;
    try {
      process.kill(-job.pid, signal);
    } catch {
      // Already gone.
    }
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

/** True when the claim file of the attempt in `dir` names `pid` (that wrapper ran the command). */
function claimedBy(dir: string, pid: number | undefined): boolean {
  try {
    return pid !== undefined && Number.parseInt(readFileSync(join(dir, CLAIM_FILE), "utf8"), 10) === pid;
  } catch {
    return false;
  }
}

let user: string | undefined;
/** This process's user name, for lease holder records. */
function currentUser(): string {
  if (user === undefined) {
    try {
      user = userInfo().username;
    } catch {
      user = String(process.getuid?.() ?? "?");
    }
  }
  return user;
}

/** Resolves once no process of group `pgid` is left (polled: a group has no exit event). */
function groupGone(pgid: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const gone = () => {
      if (pgid === undefined) return true;
      try {
        process.kill(-pgid, 0);
        return false;
      } catch {
        return true; // ESRCH: none left (EPERM cannot be ours: the group was our child's)
      }
    };
    if (gone()) return resolve();
    // Not unref'd: the process stays up (and its SIGKILL escalation timer with it) until the group is gone.
    const timer = setInterval(() => {
      if (!gone()) return;
      clearInterval(timer);
      resolve();
    }, 50);
  });
}

function exitState(code: number | null, signal: NodeJS.Signals | null, infrastructure: boolean): JobState {
  if (code === 0) return { status: "succeeded", exitCode: 0, endedAt: Date.now() };
  return {
    status: "failed",
    exitCode: code,
    signal,
    infrastructure,
    reason: signal ? `killed by ${signal}` : `exited with code ${code}`,
    endedAt: Date.now(),
  };
}

interface ProcessRecord {
  pid: number;
  startTime: string;
  devices?: string[];
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}

async function readJobFile(dir: string): Promise<ProcessRecord | undefined> {
  return readFile(join(dir, JOB_FILE), "utf8")
    .then((t) => JSON.parse(t) as ProcessRecord)
    .catch(() => undefined);
}

/**
 * The live process running the attempt in `dir`, if any: the claimant named by the claim file
 * (the one process that runs the command), else the wrapper named by job.json that has not
 * claimed yet. A pid counts only with its recorded start time (pids are reused).
 */
async function liveProcess(dir: string): Promise<ProcessRecord | undefined> {
  const record = await readJobFile(dir);
  // The claim is created empty and then written: give a wrapper caught in between a moment.
  let claim: string | undefined;
  for (let i = 0; i < 20; i++) {
    claim = await readFile(join(dir, CLAIM_FILE), "utf8").catch(() => undefined);
    if (claim !== "") break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const claimPid = claim ? Number.parseInt(claim, 10) : NaN;
  if (!Number.isNaN(claimPid)) {
    if (record?.pid === claimPid) return isSameProcess(record.pid, record.startTime) ? record : undefined;
    const startTime = processStartTime(claimPid);
    return startTime === undefined ? undefined : { pid: claimPid, startTime };
  }
  return record && isSameProcess(record.pid, record.startTime) ? record : undefined;
}

async function readExitCode(dir: string): Promise<number | undefined> {
  const text = await readFile(join(dir, EXIT_CODE_FILE), "utf8").catch(() => undefined);
  const code = text === undefined ? NaN : Number.parseInt(text, 10);
  return Number.isNaN(code) ? undefined : code;
}

/** Last `bytes` of a file ("" when it does not exist). */
export async function tailFile(file: string, bytes: number): Promise<string> {
  const info = await stat(file).catch(() => undefined);
  if (!info) return "";
  const handle = await open(file, "r");
  try {
    const start = Math.max(0, info.size - bytes);
    const buffer = Buffer.alloc(info.size - start);
    await handle.read(buffer, 0, buffer.length, start);
    return buffer.toString("utf8");
  } finally {
    await handle.close();
  }
}

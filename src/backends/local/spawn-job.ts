/**
 * Starting one local job: its input files written, its log files and GPU lease files opened, its
 * environment built, its wrapper started as its own process group (session), and its pid recorded
 * in `job.json` before anything else can happen — by the spawner (spawner.ts) when the backend
 * has one, else forked from this process ({@link spawnDirect}). Either way the backend hears of
 * the job through the same {@link JobEvents}.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { writeInputFiles } from "../input-files.js";
import { jobEnvironment } from "../job-environment.js";
import { STDERR_FILE, STDOUT_FILE } from "../queue-backend.js";
import { forgetStart, writeJobFile, writeSpawning } from "./attempt-files.js";
import { type GpuLeases, lockOrder, NOTIFY_FD } from "./gpu-leases.js";
import { JOB_FILE, jobScript } from "./job-wrapper.js";
import { holderFor, type LocalJob } from "./local-job.js";
import { processStartTime } from "./process-info.js";
import type { Spawner } from "./spawner.js";

/** What the backend hears of a job it started. */
export interface JobEvents {
  /** Its pid is known (`job.pid` is set, `job.json` written). */
  pid(): void;
  /** It runs: a CPU job once started, a GPU job once its wrapper holds every lease. */
  running(startedAt: number): void;
  /** Its wrapper ended. */
  exited(code: number | null, signal: NodeJS.Signals | null): void;
  /** It could not be started: nothing runs. */
  failed(message: string): void;
  /** Its spawner ended before it did: its end will not be reported; watch it another way. */
  orphaned(): void;
  /** The spawner could not start: nothing of this job was started; start it directly (`unusable`: for good). */
  unavailable(unusable: boolean): void;
}

/** How a job is started: the wrapper's argv and the GPUs whose leases it takes, in lock order. */
interface Launch {
  locked: string[];
  argv: string[];
  /** The job's own variables (on top of the controller's environment). */
  env: Record<string, string>;
}

function launchOf(job: LocalJob, devices: string[], leases: GpuLeases | undefined, pythonPathDir: string | undefined): Launch {
  const { spec } = job;
  writeInputFiles(spec, spec.attemptDir);
  const locked = leases && devices.length > 0 ? lockOrder(devices) : [];
  const script = jobScript(leases, locked, job.holder ?? holderFor(spec));
  const pythonPath = [pythonPathDir, process.env["PYTHONPATH"]].filter(Boolean).join(":");
  const env: Record<string, string> = {
    ...spec.env,
    ...spec.secretEnv,
    CUDA_VISIBLE_DEVICES: devices.join(","),
    ...jobEnvironment(spec, spec.attemptDir),
    ...(pythonPath ? { PYTHONPATH: pythonPath } : {}),
  };
  return { locked, argv: ["/bin/sh", "-c", script, "gpu-dag-job", ...spec.argv], env };
}

function recordPid(job: LocalJob, pid: number): void {
  job.pid = pid;
  if (job.holder) job.holder.pid = pid;
}

/**
 * Starts `job` on `devices` through `spawner`. Throws (nothing started) when its input files
 * cannot be written; everything after is reported through `events`.
 */
export function spawnThrough(spawner: Spawner, job: LocalJob, devices: string[], leases: GpuLeases | undefined, pythonPathDir: string | undefined, events: JobEvents, owner?: object): void {
  const { spec } = job;
  const { locked, argv, env } = launchOf(job, devices, leases, pythonPathDir);
  const dir = spec.attemptDir;
  // Before the request leaves: an adopter (a controller after us) must know a start may be under way.
  writeSpawning(dir, spawner.pid, spawner.startTime);
  spawner.spawn(
    {
      cwd: dir,
      argv,
      env,
      stdout: join(dir, STDOUT_FILE),
      stderr: join(dir, STDERR_FILE),
      locks: locked.map((d) => leases!.lockPath(d)),
      notify: locked.length > 0,
      jobFile: join(dir, JOB_FILE),
      devices,
    },
    {
      started: (pid, at) => {
        recordPid(job, pid);
        events.pid();
        if (locked.length === 0) events.running(at);
      },
      leased: () => events.running(Date.now()),
      exited: (code, signal) => events.exited(code, signal),
      failed: (message) => {
        forgetStart(dir);
        events.failed(message);
      },
      orphaned: () => events.orphaned(),
      unavailable: (unusable) => events.unavailable(unusable),
    },
    owner,
  );
}

/**
 * Forks `job` on `devices` from this process; sets `job.pid` (and its holder's) and writes
 * `job.json` synchronously. Throws when its files cannot be opened (e.g. the attempt directory
 * was removed with the store; no fd stays open then) or `job.json` cannot be written.
 */
export function spawnDirect(job: LocalJob, devices: string[], leases: GpuLeases | undefined, pythonPathDir: string | undefined, events: JobEvents): void {
  const { spec } = job;
  const { locked, argv, env } = launchOf(job, devices, leases, pythonPathDir);
  let lockFds: number[] = [];
  let out: number | undefined;
  let err: number | undefined;
  try {
    lockFds = locked.map((d) => leases!.openLock(d));
    out = openSync(join(spec.attemptDir, STDOUT_FILE), "a");
    err = openSync(join(spec.attemptDir, STDERR_FILE), "a");
  } catch (error) {
    for (const fd of [...lockFds, out, err]) if (fd !== undefined) closeSync(fd);
    throw error;
  }
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(argv[0]!, argv.slice(1), {
      cwd: spec.attemptDir,
      env: { ...process.env, ...env },
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
    recordPid(job, child.pid);
    writeJobFile(spec.attemptDir, child.pid, processStartTime(child.pid), devices);
    events.pid();
  }
  const notify = locked.length > 0 ? child.stdio[NOTIFY_FD] : undefined;
  if (notify) {
    // Running once its wrapper holds every lease; a wrapper that found one taken never says so.
    notify.once("data", () => events.running(Date.now()));
    notify.on("error", () => undefined);
  } else child.once("spawn", () => events.running(startedAt));
  child.once("error", (error) => events.failed(error.message));
  child.once("exit", (code, signal) => events.exited(code, signal));
}

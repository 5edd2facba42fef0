/**
 * Forking one local job: its log files and GPU lease fds opened, its environment built, its
 * wrapper spawned as its own process group, and its pid recorded in `job.json` before anything
 * else can happen.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { writeInputFiles } from "../input-files.js";
import { jobEnvironment } from "../job-environment.js";
import { STDERR_FILE, STDOUT_FILE } from "../queue-backend.js";
import { writeJobFile } from "./attempt-files.js";
import { type GpuLeases, lockOrder } from "./gpu-leases.js";
import { jobScript } from "./job-wrapper.js";
import { holderFor, type LocalJob } from "./local-job.js";
import { processStartTime } from "./process-info.js";

/** A job just forked by {@link spawnJob}. */
export interface SpawnedJob {
  child: ChildProcess;
  /** The GPUs whose leases its wrapper takes, in lock order (none for a CPU job or without leases). */
  locked: string[];
  /** When it was forked (ms since the epoch). */
  startedAt: number;
}

/**
 * Forks `job` on `devices`; sets `job.pid` (and its holder's) and writes `job.json`. Throws when
 * its files cannot be opened (e.g. the attempt directory was removed with the store; no fd stays
 * open then) or `job.json` cannot be written.
 */
export function spawnJob(job: LocalJob, devices: string[], leases: GpuLeases | undefined, pythonPathDir: string | undefined): SpawnedJob {
  const { spec } = job;
  const locked = leases && devices.length > 0 ? lockOrder(devices) : [];
  let lockFds: number[] = [];
  let out: number | undefined;
  let err: number | undefined;
  try {
    writeInputFiles(spec, spec.attemptDir);
    lockFds = locked.map((d) => leases!.openLock(d));
    out = openSync(join(spec.attemptDir, STDOUT_FILE), "a");
    err = openSync(join(spec.attemptDir, STDERR_FILE), "a");
  } catch (error) {
    for (const fd of [...lockFds, out, err]) if (fd !== undefined) closeSync(fd);
    throw error;
  }
  const script = jobScript(leases, locked, job.holder ?? holderFor(spec));
  const pythonPath = [pythonPathDir, process.env["PYTHONPATH"]].filter(Boolean).join(":");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...spec.env,
    ...spec.secretEnv,
    CUDA_VISIBLE_DEVICES: devices.join(","),
    ...jobEnvironment(spec, spec.attemptDir),
    ...(pythonPath ? { PYTHONPATH: pythonPath } : {}),
  };
  let child: ChildProcess;
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
    writeJobFile(spec.attemptDir, child.pid, processStartTime(child.pid), devices);
  }
  return { child, locked, startedAt };
}

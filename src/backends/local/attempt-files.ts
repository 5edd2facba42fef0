/**
 * Reading the marker files a local job's wrapper and the backend leave in its attempt directory
 * (job-wrapper.ts), to tell whether an attempt started, who runs it, and how it ended.
 *
 * @module
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { CLAIM_FILE, EXIT_CODE_FILE, JOB_FILE, SPAWNING_FILE } from "./job-wrapper.js";
import { isSameProcess, processStartTime } from "./process-info.js";

/** What `job.json` records of a started job; `devices` are the GPUs it was given. */
export interface ProcessRecord {
  pid: number;
  startTime: string;
  devices?: string[];
}

/** True when the attempt in `dir` was started before (it has a `job.json` or a claim). */
export async function attemptStarted(dir: string): Promise<boolean> {
  return (await exists(join(dir, JOB_FILE))) || (await exists(join(dir, CLAIM_FILE)));
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}

/**
 * Writes `job.json` of the attempt in `dir`, synchronously (nothing may happen in between); a
 * `startTime` not known (the process already gone) is left out.
 */
export function writeJobFile(dir: string, pid: number, startTime: string | undefined, devices: readonly string[]): void {
  writeFileSync(join(dir, JOB_FILE), JSON.stringify({ pid, startTime, devices }));
}

/** Removes `job.json` (and `spawning`) of the attempt in `dir`: its wrapper ran nothing and is gone, so no one may adopt it. */
export function forgetStart(dir: string): void {
  rmSync(join(dir, JOB_FILE), { force: true });
  rmSync(join(dir, SPAWNING_FILE), { force: true });
}

/** Records, synchronously, that spawner `pid` (started at `startTime`) is asked to start the attempt in `dir`. */
export function writeSpawning(dir: string, pid: number | undefined, startTime: string | undefined): void {
  writeFileSync(join(dir, SPAWNING_FILE), JSON.stringify({ pid, startTime }));
}

/** How long an adopter waits for a live spawner to record the start it was asked for. */
const SPAWNING_WAIT_MS = 10_000;

/**
 * Where the attempt in `dir` was handed to a spawner that has not recorded its start yet
 * (`spawning` but neither `job.json` nor a claim): waits while that spawner lives (it records
 * the pid before it answers), at most {@link SPAWNING_WAIT_MS}. Resolves `"uncertain"` when the start is still not
 * recorded then (the spawner died, maybe after starting the wrapper): whoever starts the attempt
 * again does so under the same claim, so at most one wrapper runs the command. Else `"settled"`.
 */
export async function settleSpawning(dir: string): Promise<"settled" | "uncertain"> {
  const spawning = await readFile(join(dir, SPAWNING_FILE), "utf8")
    .then((t) => JSON.parse(t) as { pid?: number; startTime?: string })
    .catch(() => undefined);
  if (!spawning) return "settled";
  const deadline = Date.now() + SPAWNING_WAIT_MS;
  for (;;) {
    // Recorded, or its wrapper runs (it claimed the attempt): nothing to wait for.
    if ((await exists(join(dir, JOB_FILE))) || (await exists(join(dir, CLAIM_FILE)))) return "settled";
    const alive = spawning.pid !== undefined && spawning.startTime !== undefined && isSameProcess(spawning.pid, spawning.startTime);
    if (!alive || Date.now() > deadline) return (await exists(join(dir, JOB_FILE))) || (await exists(join(dir, CLAIM_FILE))) ? "settled" : "uncertain";
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The `job.json` of the attempt in `dir`, if there is a readable one. */
export async function readJobFile(dir: string): Promise<ProcessRecord | undefined> {
  return readFile(join(dir, JOB_FILE), "utf8")
    .then((t) => JSON.parse(t) as ProcessRecord)
    .catch(() => undefined);
}

/** The exit code the wrapper wrote for the attempt in `dir`, if it has written one. */
export async function readExitCode(dir: string): Promise<number | undefined> {
  const text = await readFile(join(dir, EXIT_CODE_FILE), "utf8").catch(() => undefined);
  const code = text === undefined ? NaN : Number.parseInt(text, 10);
  return Number.isNaN(code) ? undefined : code;
}

/** True when the claim file of the attempt in `dir` names `pid` (that wrapper ran the command). */
export function claimedBy(dir: string, pid: number | undefined): boolean {
  try {
    return pid !== undefined && Number.parseInt(readFileSync(join(dir, CLAIM_FILE), "utf8"), 10) === pid;
  } catch {
    return false;
  }
}

/**
 * When the attempt in `dir` started, in ms since the epoch: when its wrapper claimed it (the claim
 * file's mtime), else when it was forked (job.json's), else now.
 */
export async function claimedAt(dir: string): Promise<number> {
  return (
    (
      await stat(join(dir, CLAIM_FILE))
        .catch(() => stat(join(dir, JOB_FILE)))
        .catch(() => undefined)
    )?.mtimeMs ?? Date.now()
  );
}

/** How long {@link liveProcess} waits for a claim created empty to get its pid. */
const CLAIM_WRITE_WAIT_MS = 2000;

/**
 * The live process running the attempt in `dir`, if any: the claimant named by the claim file
 * (the one process that runs the command), else the wrapper named by job.json that has not
 * claimed yet. A pid counts only with its recorded start time (pids are reused).
 */
export async function liveProcess(dir: string): Promise<ProcessRecord | undefined> {
  const record = await readJobFile(dir);
  // The claim is created empty and then written: give a wrapper caught in between a moment (on a
  // loaded machine a freshly started wrapper may wait a while for a CPU between the two).
  let claim: string | undefined;
  const deadline = Date.now() + CLAIM_WRITE_WAIT_MS;
  for (;;) {
    claim = await readFile(join(dir, CLAIM_FILE), "utf8").catch(() => undefined);
    if (claim !== "" || Date.now() > deadline) break;
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

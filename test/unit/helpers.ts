/**
 * Shared helpers of the unit tier: a temp store per test, local cluster configs with fake GPUs,
 * custom tasks running tiny node / sh fixture scripts, and readers for what jobs recorded.
 * Nothing here replaces our own code: tests run the real runner, store and local backend.
 */

import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import type { ExecuteOptions, Pipeline } from "../../src/api/pipeline.js";
import { type ClusterConfig, ClusterConfigSchema } from "../../src/config/cluster-config.js";
import type { RunResult } from "../../src/runner/run-types.js";
import { FileStore } from "../../src/store/file-store.js";
import { seededRandom } from "../../src/study/space.js";
import { Task } from "../../src/tasks/custom-task.js";

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  const pending = cleanups.splice(0);
  for (const cleanup of pending.reverse()) await cleanup();
});

/** A fresh temp directory, removed after the test. */
export async function tempDir(prefix = "gpu-dag-test-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh file store in its own temp GPU_DAG_HOME, closed and removed after the test. */
export async function tempStore(): Promise<FileStore> {
  const home = await tempDir("gpu-dag-home-");
  const store = new FileStore({ home });
  cleanups.push(() => store.close());
  return store;
}

/** A validated local cluster config (`gpus` fake device ids; queues `…xN` take N of them). */
export function localCluster(options: Partial<Record<string, unknown>> = {}): ClusterConfig {
  return ClusterConfigSchema.parse({ executor: "local", gpus: 0, ...options });
}

/** A small seeded PRNG (mulberry32), so a failing random case reproduces. — the one studies use. */
export const mulberry32 = seededRandom;

/**
 * Node fixture: records `{ start, end, devices, argv }` in `$GPU_DAG_OUTPUT_DIR/record.json`,
 * with monotonic clock readings (`process.hrtime.bigint()`, CLOCK_MONOTONIC: comparable across
 * processes) taken as the job starts and just before it exits, after sleeping `argv[1]` ms.
 */
export const RECORD_SCRIPT = `
const { writeFileSync } = require("node:fs");
const start = process.hrtime.bigint();
const sleepMs = Number(process.argv[1] || 0);
setTimeout(() => {
  const end = process.hrtime.bigint();
  writeFileSync(process.env.GPU_DAG_OUTPUT_DIR + "/record.json", JSON.stringify({
    start: String(start), end: String(end),
    devices: process.env.CUDA_VISIBLE_DEVICES,
    argv: process.argv.slice(1),
  }));
}, sleepMs);
`;

/** A custom task running {@link RECORD_SCRIPT} with `{sleep}` ms of work. */
export function recordingTask(name: string, sleepMs = 0): Task {
  return new Task({
    projectName: "unit",
    taskName: name,
    command: [process.execPath, "-e", RECORD_SCRIPT, "{sleep}"],
    parameters: { sleep: sleepMs },
  });
}

/** A custom task running `sh -c script`. */
export function shTask(name: string, script: string, parameters: Record<string, string | number | boolean> = {}): Task {
  return new Task({ projectName: "unit", taskName: name, command: ["sh", "-c", script, "job", ...Object.keys(parameters).map((k) => `{${k}}`)], parameters });
}

/** What {@link RECORD_SCRIPT} wrote. */
export interface JobRecord {
  start: bigint;
  end: bigint;
  devices: string;
  argv: string[];
}

/** Reads the record a job left in its attempt directory. */
export async function readRecord(attemptDir: string | undefined): Promise<JobRecord> {
  if (!attemptDir) throw new Error("step has no attempt directory");
  const raw = JSON.parse(await readFile(join(attemptDir, "record.json"), "utf8")) as { start: string; end: string; devices: string; argv: string[] };
  return { start: BigInt(raw.start), end: BigInt(raw.end), devices: raw.devices, argv: raw.argv };
}

/** True while `pid` is a live (non-zombie) process. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Resolves when `predicate()` holds, polling every 10 ms; rejects after `ms`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs `pipeline` on the local backend with a temp store and fast retries. */
export function runLocally(pipeline: Pipeline, store: FileStore, options: Omit<ExecuteOptions, "store" | "home"> = {}): Promise<RunResult> {
  return pipeline.executeLocally({ store, home: store.home, cluster: localCluster(), retryBackoffMs: 10, ...options });
}

/** The `attempt-planned` argv of each attempt of `step`, from the run's journal. */
export async function plannedArgv(store: FileStore, runId: string, step: string): Promise<string[][]> {
  const entries = await store.readJournal(runId);
  return entries.flatMap((e) => (e.type === "attempt-planned" && e.step === step ? [e.argv] : []));
}

/**
 * Helpers of the CLI tests: run the REAL `bin/gpu-dag.js` (from the TypeScript sources) with a
 * temp store, read what it printed and its exit code.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll } from "vitest";

/** Repository root. */
export const ROOT = resolve(import.meta.dirname, "../../..");
/** The binary under test. */
export const BIN = join(ROOT, "bin", "gpu-dag.js");
/** The example pipelines the tests (and the docs) use. */
export const EXAMPLE = join(ROOT, "examples", "pipeline-yaml");

/** What a CLI run left behind. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `gpu-dag --home <home> …args`. */
export function gd(home: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return run(["--home", home, ...args], options);
}

/** Runs `gpu-dag …args` as given. */
export function run(args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, GPU_DAG_CLI_SOURCE: "1", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 90_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Starts `gpu-dag --home <home> …args` in the background; returns the child. */
export function gdBackground(home: string, args: readonly string[]) {
  return spawn(process.execPath, [BIN, "--home", home, ...args], {
    cwd: ROOT,
    env: { ...process.env, GPU_DAG_CLI_SOURCE: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** A temp store directory for this test file, removed after it. */
export async function tempHome(prefix = "gpu-dag-cli-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Parses stdout as the one JSON document `--json` promises. */
export function json<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch (error) {
    throw new Error(`stdout is not one JSON document (exit ${result.code}): ${result.stdout}\nstderr: ${result.stderr}`, { cause: error });
  }
}

/** Polls `check` until it returns a value (not undefined) or `ms` pass. */
export async function until<T>(check: () => Promise<T | undefined>, ms = 30_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** True when any process of group `pid` is alive. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

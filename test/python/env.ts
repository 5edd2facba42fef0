/**
 * The Python tier's environment: the venv (made by `setupPython()` into `.venv/gpu-dag`), the
 * runtime on PYTHONPATH, the tiny local model fixture, and a helper that runs a runner as a real
 * process. A venv that cannot be made is an error, never a skip (in CI and locally alike).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type OutputsManifest, parseOutputsManifest } from "../../src/manifest/outputs-manifest.js";
import { setupPython } from "../../src/python/setup-python.js";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const pythonDir = join(repoRoot, "python");
export const fixturesDir = join(repoRoot, "test", "python", "fixtures");
export const venvDir = process.env["GPU_DAG_TEST_VENV"] ?? join(repoRoot, ".venv", "gpu-dag");

/** The venv's interpreter. */
export interface PythonEnv {
  python: string;
}

let pending: Promise<PythonEnv> | undefined;

/** Ensures the venv (idempotent: a stamp skips reinstall). Throws when it cannot be made. */
export function pythonEnv(): Promise<PythonEnv> {
  pending ??= (async () => {
    const started = Date.now();
    try {
      const lines: string[] = [];
      const result = await setupPython({
        venv: venvDir,
        onLog: (line) => {
          lines.push(line);
          if (line.startsWith("$ ") || line.startsWith("venv ")) process.stderr.write(`[setup-python] ${line}\n`);
        },
      });
      if (result.installed) process.stderr.write(`[setup-python] venv created in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
      return { python: result.python };
    } catch (error) {
      throw new Error(`python tier: the venv could not be created (the tier needs PyPI and the torch==2.13.0 CPU wheel): ${(error as Error).message}`, { cause: error });
    }
  })();
  return pending;
}

/** Environment for runner processes: runtime on PYTHONPATH, hub offline. */
export function runnerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: pythonDir,
    PYTHONUNBUFFERED: "1",
    HF_HUB_OFFLINE: "1",
    HF_DATASETS_OFFLINE: "1",
    TRANSFORMERS_NO_ADVISORY_WARNINGS: "1",
    TOKENIZERS_PARALLELISM: "false",
    ...extra,
  };
}

/** What a finished process left. */
export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The last non-empty stderr line. */
  lastLine: string;
}

/** Runs `python argv…` to completion. */
export function runPython(python: string, argv: readonly string[], options: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, argv, { env: runnerEnv(options.env), cwd: options.cwd ?? repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 600_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const lines = stderr.split(/\r?\n|\r/).filter((l) => l.trim() !== "");
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr, lastLine: lines.at(-1) ?? "" });
    });
  });
}

/** Runs `python -m gpu_dag_runtime.<runner> argv…` with `GPU_DAG_OUTPUT_DIR=outputDir`. */
export function runRunner(python: string, runner: string, argv: readonly string[], options: { outputDir?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ProcessResult> {
  const env = { ...(options.outputDir ? { GPU_DAG_OUTPUT_DIR: options.outputDir } : {}), ...options.env };
  return runPython(python, ["-m", `gpu_dag_runtime.${runner}`, ...argv], { env, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
}

/** Reads and validates `outputs.json` with the same zod schema the runner uses. */
export async function readManifest(outputDir: string): Promise<OutputsManifest> {
  const file = join(outputDir, "outputs.json");
  return parseOutputsManifest(await readFile(file, "utf8"), file);
}

/** Paths written by `gpu_dag_runtime.testing.make_tiny_model`. */
export interface TinyFixture {
  model: string;
  calibration: string;
  generation_input: string;
  prompt_config: string;
  tasks_dir: string;
  tasks: string[];
  group: string;
}

/** Builds the tiny model + data into a fresh temp dir. */
export async function buildTinyFixture(python: string): Promise<TinyFixture> {
  const dir = await mkdtemp(join(tmpdir(), "gpu-dag-tiny-"));
  const result = await runPython(python, ["-m", "gpu_dag_runtime.testing.make_tiny_model", dir]);
  if (result.code !== 0) throw new Error(`make_tiny_model failed (${result.code}):\n${result.stderr.slice(-3000)}`);
  const info = JSON.parse(await readFile(join(dir, "fixture.json"), "utf8")) as TinyFixture;
  if (!existsSync(info.model)) throw new Error(`fixture model missing: ${info.model}`);
  return info;
}

/** Reads a JSONL file into objects. */
export async function readJsonl(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, "utf8");
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

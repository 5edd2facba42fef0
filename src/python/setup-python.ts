/**
 * `setupPython()`: creates the virtual environment the job-side runtime (`python/gpu_dag_runtime`)
 * runs in, with the pinned, tested tool versions of `python/requirements.txt`.
 *
 * Order matters: `torch==2.13.0` is installed first (on machines with a CPU wheel at hand that is
 * what pip takes; an unpinned torch would pull several GB of CUDA packages), then the requirements,
 * then the imports are checked. A stamp file in the venv records a hash of the requirements (and
 * of the interpreter version), so a second call with nothing changed returns at once.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { ErrorCode, GpuDagError } from "../errors.js";
import { pythonRuntimeDir } from "../package-root.js";

/** The torch pin installed before everything else. */
export const TORCH_PIN = "torch==2.13.0";

/** Modules that must import in a finished venv. */
export const REQUIRED_MODULES = ["torch", "transformers", "llmcompressor", "compressed_tensors", "lm_eval", "datasets", "accelerate", "yaml", "fastapi", "uvicorn"] as const;

/** Options of {@link setupPython}. */
export interface SetupPythonOptions {
  /** Venv directory. Default: `$GPU_DAG_HOME/venv` (`GPU_DAG_HOME` defaults to `~/.gpu-dag`). */
  venv?: string;
  /** Interpreter that creates the venv. Default: `$GPU_DAG_PYTHON`, else `python3`. */
  python?: string;
  /** Receives each line of output (pip's progress included). */
  onLog?: (line: string) => void;
  /** Reinstall even when the stamp says the venv is up to date. */
  force?: boolean;
  /** Stops the install (the current pip process gets SIGTERM). */
  signal?: AbortSignal;
}

/** Result of {@link setupPython}. */
export interface SetupPythonResult {
  /** Absolute venv directory. */
  venv: string;
  /** Absolute path of the venv's interpreter: use it as a task's / queue's `python`. */
  python: string;
  /** False when the stamp matched and nothing was installed. */
  installed?: boolean;
}

/** Stamp file written in the venv after a successful install. */
export const STAMP_FILE = ".gpu-dag-stamp.json";

/** The default venv directory, `$GPU_DAG_HOME/venv`. */
export function defaultVenvDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env["GPU_DAG_HOME"] || join(homedir(), ".gpu-dag");
  return join(home, "venv");
}

/** `python/requirements.txt` shipped in the package. */
export function requirementsFile(): string {
  return join(pythonRuntimeDir(), "requirements.txt");
}

/** The venv's interpreter path (POSIX layout; Windows `Scripts\python.exe`). */
export function venvPython(venv: string): string {
  return process.platform === "win32" ? join(venv, "Scripts", "python.exe") : join(venv, "bin", "python");
}

function run(argv: readonly string[], options: { onLog: ((line: string) => void) | undefined; signal: AbortSignal | undefined; env?: NodeJS.ProcessEnv }): Promise<{ code: number; tail: string[] }> {
  return new Promise((resolvePromise, reject) => {
    const [cmd, ...args] = argv;
    if (cmd === undefined) throw new Error("empty argv");
    const child = spawn(cmd, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1", ...options.env },
    });
    const tail: string[] = [];
    const onAbort = () => child.kill("SIGTERM");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    let pending = "";
    const onData = (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      const lines = pending.split(/\r?\n|\r/);
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (!line) continue;
        tail.push(line);
        if (tail.length > 40) tail.shift();
        options.onLog?.(line);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (error) => {
      options.signal?.removeEventListener("abort", onAbort);
      reject(error);
    });
    child.on("close", (code, sig) => {
      options.signal?.removeEventListener("abort", onAbort);
      if (pending) {
        tail.push(pending);
        options.onLog?.(pending);
      }
      resolvePromise({ code: code ?? (sig ? 128 : 1), tail });
    });
  });
}

function setupError(message: string, cause?: unknown): GpuDagError {
  return new GpuDagError(ErrorCode.Config, `gpu-dag setup-python: ${message}`, { cause });
}

async function step(what: string, argv: readonly string[], options: { onLog: ((line: string) => void) | undefined; signal: AbortSignal | undefined }): Promise<void> {
  options.onLog?.(`$ ${argv.join(" ")}`);
  let result: { code: number; tail: string[] };
  try {
    result = await run(argv, options);
  } catch (error) {
    throw setupError(`${what} failed to start (${argv[0]}): ${(error as Error).message}`, error);
  }
  if (options.signal?.aborted) throw setupError(`${what} aborted`);
  if (result.code !== 0) {
    throw setupError(`${what} failed with exit code ${result.code}:\n${result.tail.slice(-15).join("\n")}`);
  }
}

/**
 * Creates (or reuses) the venv and installs the pinned tools. Idempotent: when the stamp in the
 * venv matches the requirements' hash and the interpreter is there, returns without installing.
 *
 * @throws GpuDagError (code `E_CONFIG`) naming the step that failed and the tail of its output.
 */
export async function setupPython(options: SetupPythonOptions = {}): Promise<SetupPythonResult> {
  const venv = resolve(options.venv ?? defaultVenvDir());
  const basePython = options.python ?? process.env["GPU_DAG_PYTHON"] ?? "python3";
  const python = venvPython(venv);
  const log = options.onLog;
  const io = { onLog: log, signal: options.signal };

  const requirements = requirementsFile();
  let requirementsText: string;
  try {
    requirementsText = await readFile(requirements, "utf8");
  } catch (error) {
    throw setupError(`cannot read ${requirements}: ${(error as Error).message}`, error);
  }
  const hash = createHash("sha256").update(TORCH_PIN).update("\0").update(requirementsText).digest("hex");
  const stampPath = join(venv, STAMP_FILE);

  if (!options.force && existsSync(python)) {
    try {
      const stamp = JSON.parse(await readFile(stampPath, "utf8")) as { requirementsHash?: string };
      if (stamp.requirementsHash === hash) {
        log?.(`venv ${venv} is up to date (requirements hash ${hash.slice(0, 12)})`);
        return { venv, python, installed: false };
      }
    } catch {
      // no stamp or unreadable: install
    }
  }

  await mkdir(dirname(venv), { recursive: true });
  if (!existsSync(python)) {
    await step("creating the venv", [basePython, "-m", "venv", venv], io);
  }
  await step(`installing ${TORCH_PIN}`, [python, "-m", "pip", "install", TORCH_PIN], io);
  await step(`installing ${requirements}`, [python, "-m", "pip", "install", "-r", requirements], io);
  const check = REQUIRED_MODULES.map((m) => `import ${m}`).join("; ");
  await step("checking the imports", [python, "-c", `${check}; import torch; print("torch", torch.__version__)`], io);

  const stamp = { requirementsHash: hash, torch: TORCH_PIN, createdAt: new Date().toISOString() };
  const tmp = `${stampPath}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(stamp, null, 2) + "\n");
  await rename(tmp, stampPath);
  log?.(`venv ready: ${python}`);
  return { venv, python, installed: true };
}

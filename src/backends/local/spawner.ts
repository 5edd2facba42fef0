/**
 * The local backend's spawner: one small long-lived helper process (the Python program of
 * spawner-program.ts), shared by the local backends of a process, that starts their jobs, so the
 * controller never forks itself. `fork()` of the Node controller costs in proportion to its resident memory (0.5 ms at
 * 77 MB, 4.5 ms at 220 MB on the benchmark VM: bench/README.md); the spawner's `posix_spawn` costs
 * the same whatever the controller's size.
 *
 * The spawner is the jobs' parent: it reaps them and tells the backend how each ended. Everything
 * that makes a local job safe stays in the job itself (its `sh` wrapper: the claim, the exit-code
 * marker, the GPU leases) or in files the spawner writes before it answers (`job.json`), so the
 * spawner's death loses nothing: the backend hears of it (its `close`), and each job it had
 * started and not yet reported as ended is watched from then on as an adopted one (its pid from
 * `job.json` or its claim, its end from its exit-code file); a job it may not have started yet is
 * started again under the same claim (at most one of the two wrappers runs the command). Its
 * environment is the controller's when the spawner started (a backend made after `process.env`
 * changed gets a new one), with each job's own on top.
 *
 * A spawner that cannot start (no usable `python3`: Python ≥ 3.8 is needed for `os.posix_spawn`)
 * reports that before it started anything, and the backend spawns directly, as it always did.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { processStartTime } from "./process-info.js";
import { SPAWNER_PROGRAM } from "./spawner-program.js";

/** One job for the spawner to start; see spawner-program.ts for each field. */
export interface SpawnRequest {
  cwd: string;
  argv: readonly string[];
  /** The job's variables on top of the spawner's environment. */
  env: Readonly<Record<string, string>>;
  stdout: string;
  stderr: string;
  /** Lease files to open on fds 4, 5, … (with `notify`). */
  locks: readonly string[];
  /** A pipe on fd 3 on which the wrapper says it holds its leases. */
  notify: boolean;
  /** Where the spawner records pid, start time and devices before it answers. */
  jobFile: string;
  devices: readonly string[];
}

/** What the backend hears of one job it asked the spawner to start. */
export interface SpawnListener {
  /** The wrapper runs as `pid` (since `at`, ms since the epoch); `job.json` is written. */
  started(pid: number, at: number): void;
  /** The wrapper holds its GPU leases. */
  leased(): void;
  /** The wrapper ended (reaped by the spawner). */
  exited(code: number | null, signal: NodeJS.Signals | null): void;
  /** Nothing was started: `message` says why. */
  failed(message: string): void;
  /** The spawner ended before the job did: nobody reports this job's end any more. */
  orphaned(): void;
  /**
   * The spawner never came up, so nothing of this request was started: start it another way.
   * `unusable`: it ended by itself (no usable Python), not by a signal: do not try again.
   */
  unavailable(unusable: boolean): void;
}

type SpawnerEvent =
  | { ev: "ready"; pid: number }
  | { ev: "started"; id: string; pid: number; at: number }
  | { ev: "leased"; id: string }
  | { ev: "exit"; id: string; code: number | null; signal: NodeJS.Signals | null }
  | { ev: "error"; id: string; message: string };

/** The `python3` on `PATH` (found without forking), or `undefined`. */
export function findPython(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env["PATH"] ?? "/usr/bin:/bin").split(delimiter)) {
    const candidate = join(dir || ".", "python3");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** See the module comment. One per backend, started by {@link Spawner.start}. */
export class Spawner {
  readonly #child: ChildProcess;
  readonly #jobs = new Map<string, { listener: SpawnListener; owner: object | undefined }>();
  /** Replaced by a spawner of a newer environment: it ends once its last job has. */
  #retiring = false;
  #seq = 0;
  #ready = false;
  #ended = false;
  #buffer = "";
  /** The spawner's start time (/proc), recorded with the pid in each attempt's `spawning` file. */
  readonly startTime: string | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.startTime = child.pid === undefined ? undefined : processStartTime(child.pid);
    child.on("error", () => this.#end(true));
    child.stdin!.on("error", () => undefined); // a dead spawner: its stdout closes and says so
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => this.#receive(chunk));
    // After the process ended and its stdout closed: every event it sent has been read.
    child.on("close", (_code, signal) => this.#end(signal === null));
    child.stderr!.resume(); // read and dropped: it never holds a request (those carry secrets)
    this.#refs();
  }

  /**
   * The spawner this process shares for `python` (every backend of the process uses one, so a
   * process that runs many small runs starts one interpreter, not one per run), started when
   * there is none alive or `process.env` changed since it started (jobs get the environment of
   * when their spawner started; one of an older environment ends once its last job has).
   */
  static shared(python: string): Spawner {
    const env = environmentKey();
    const current = sharedSpawners.get(python);
    if (current?.alive && current.#env === env) return current;
    if (current) current.#retire();
    const fresh = Spawner.start(python);
    fresh.#env = env;
    sharedSpawners.set(python, fresh);
    return fresh;
  }

  #env = "";

  /** Starts a spawner running `python`. */
  static start(python: string): Spawner {
    // -I -S: no user site, no site-packages, no PYTHON* variables: a bare, fast interpreter.
    const child = spawn(python, ["-I", "-S", "-c", SPAWNER_PROGRAM, "gpu-dag-spawner"], { stdio: ["pipe", "pipe", "pipe"] });
    return new Spawner(child);
  }

  /** False once the spawner ended (died, or closed): start another for new jobs. */
  get alive(): boolean {
    return !this.#ended;
  }

  /** The spawner's pid. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Asks the spawner to start `request`; `listener` hears what became of it (see {@link Spawner.release} for `owner`). */
  spawn(request: SpawnRequest, listener: SpawnListener, owner?: object): void {
    if (this.#ended) {
      listener.unavailable(false);
      return;
    }
    const id = String(++this.#seq);
    this.#jobs.set(id, { listener, owner });
    this.#refs();
    this.#child.stdin!.write(`${JSON.stringify({ op: "spawn", id, ...request })}\n`);
  }

  /** `owner` hears nothing more of its jobs (they run on); the spawner serves the others. */
  release(owner: object): void {
    for (const [id, job] of this.#jobs) if (job.owner === owner) this.#jobs.delete(id);
    this.#refs();
    if (this.#retiring && this.#jobs.size === 0) this.close();
  }

  #retire(): void {
    this.#retiring = true;
    if (this.#jobs.size === 0) this.close();
  }

  /** Lets the spawner go (its jobs run on; nothing more is reported). */
  close(): void {
    this.#jobs.clear();
    this.#ended = true;
    this.#child.stdin!.end();
    this.#refs();
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    let newline = this.#buffer.indexOf("\n");
    while (newline !== -1) {
      const line = this.#buffer.slice(0, newline);
      this.#buffer = this.#buffer.slice(newline + 1);
      newline = this.#buffer.indexOf("\n");
      let event: SpawnerEvent;
      try {
        event = JSON.parse(line) as SpawnerEvent;
      } catch {
        continue; // not ours (nothing else writes there)
      }
      this.#handle(event);
    }
  }

  #handle(event: SpawnerEvent): void {
    if (event.ev === "ready") {
      this.#ready = true;
      return;
    }
    const listener = this.#jobs.get(event.id)?.listener;
    if (!listener) return;
    if (event.ev === "started") listener.started(event.pid, event.at);
    else if (event.ev === "leased") listener.leased();
    else {
      this.#jobs.delete(event.id);
      this.#refs();
      if (this.#retiring && this.#jobs.size === 0) this.close();
      if (event.ev === "exit") listener.exited(event.code, event.signal);
      else listener.failed(event.message);
    }
  }

  /** It ended (`byItself`: not by a signal), or could not start. */
  #end(byItself: boolean): void {
    if (this.#ended && this.#jobs.size === 0) return;
    this.#ended = true;
    const jobs = [...this.#jobs.values()].map((j) => j.listener);
    this.#jobs.clear();
    this.#refs();
    for (const listener of jobs) {
      try {
        if (this.#ready) listener.orphaned();
        else listener.unavailable(byItself);
      } catch {
        // One job's handling must not keep the others from hearing of it.
      }
    }
  }

  /**
   * Keeps this process alive while jobs are out (as their own child handles did), not longer:
   * the spawner's process handle, stdout and stderr are referenced only then — all three, since
   * its `close` (the end this class acts on) waits for each, and what holds one open may be a
   * leftover of a wrapper that started it (e.g. a version manager's shim killed mid-way).
   */
  #refs(): void {
    const streams = [this.#child.stdout, this.#child.stderr] as unknown as Array<{ ref?: () => void; unref?: () => void } | null>;
    (this.#child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    const hold = this.#jobs.size > 0 && !this.#ended;
    if (hold) this.#child.ref();
    else this.#child.unref();
    for (const stream of streams) {
      if (hold) stream?.ref?.();
      else stream?.unref?.();
    }
  }
}

/** The spawner each `python` of this process shares (see {@link Spawner.shared}). */
const sharedSpawners = new Map<string, Spawner>();

/** `process.env` as one string, to tell whether it changed since a spawner started. */
function environmentKey(): string {
  return Object.entries(process.env)
    .map(([k, v]) => `${k}=${v ?? ""}`)
    .sort()
    .join("\0");
}

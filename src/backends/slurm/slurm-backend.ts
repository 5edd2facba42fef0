/**
 * {@link QueueBackend} on Slurm, over SSH or on a login node.
 *
 * Round trips, per operation:
 * - `submit(batch)`: ONE remote program writes every script and secret file and runs `sbatch`
 *   for each job (a whole ready set in one exec).
 * - each poll cycle: ONE exec running one `squeue` for every active job plus reading every
 *   exit-code marker; a second (`sacct`) only for ids Slurm's controller has forgotten and no
 *   marker explains.
 * - `cancel`: one `scancel` for all ids. `logs`/`collect`: SFTP reads of tails.
 *
 * Poll interval is adaptive: {@link PollIntervals.min} right after a submit or a state change,
 * then ×{@link PollIntervals.factor} per quiet cycle up to {@link PollIntervals.max}.
 *
 * Per-job state lives in `#jobs` (what was submitted/adopted, last reported state) and `#active`
 * (ids still queued or running, polled each cycle).
 *
 * @module
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SlurmClusterConfig } from "../../config/cluster-config.js";
import { AbortedError, BackendError, type JobRefusal } from "../../errors.js";
import {
  isTerminal,
  OUTPUTS_FILE,
  STDERR_FILE,
  STDOUT_FILE,
  type JobSpec,
  type JobState,
  type BackendNoticeListener,
  type JobUpdateListener,
  type LogOptions,
  type QueueBackend,
  type SubmittedJob,
} from "../queue-backend.js";
import { EXIT_CODE_FILE, renderBatchScript, renderSecretEnv } from "./batch-script.js";
import {
  cancelProgram,
  parsePollOutput,
  parseSubmitOutput,
  pollProgram,
  RUN_STDIN,
  submitProgram,
  type SubmitItem,
} from "./remote-scripts.js";
import { remoteAttemptDir, resolveBatchJob, secretLookingEnv, type SlurmJobConfig } from "./resolve-job.js";
import { DEFINE_SEP, isSlurmJobId, parseSacct, parseSqueue, sacctCommand } from "./slurm-output.js";
import { isDependencyNeverSatisfied, toJobState, type JobStateContext, type SlurmJobInfo } from "./slurm-state.js";
import { shipRuntime } from "./ship-runtime.js";
import { transportFor } from "./transport-for.js";
import { shellQuote } from "../../args/shell-quote.js";
import { ConnectionDroppedError, type Transport } from "./transport.js";

/** Poll interval tuning, in ms. */
export interface PollIntervals {
  /** Right after a submit or a state change (default 250). */
  min: number;
  /** Ceiling while jobs run quietly (default 5000). */
  max: number;
  /** Growth per quiet cycle (default 1.5). */
  factor: number;
}

/** Counters of remote work, for benchmarks and tests. */
export interface SlurmBackendStats {
  /** Remote execs (round trips that ran a command). */
  execs: number;
  /** `sbatch` invocations. */
  sbatch: number;
  /** Poll cycles (each one `squeue` exec, plus `sacct` when needed). */
  pollCycles: number;
  squeue: number;
  sacct: number;
  scancel: number;
}

/** Options of {@link SlurmBackend}. */
export interface SlurmBackendOptions {
  /** The Slurm cluster config (only the fields in {@link SlurmJobConfig} and `ssh` are used). */
  config: SlurmJobConfig & Partial<Pick<SlurmClusterConfig, "ssh">>;
  /** Transport to use; default: SSH when `config.ssh` is set, else this machine (login node). */
  transport?: Transport;
  /** Poll interval tuning. */
  pollIntervals?: Partial<PollIntervals>;
  /** Called with errors of background polling (default: ignored; the next cycle retries). */
  onPollError?: (error: unknown) => void;
  /**
   * Local directory of the job-side Python runtime (the package's `python/`). When set, it is
   * shipped to `<jobDir>/.runtime/<hash>` once and put on every job's PYTHONPATH.
   */
  pythonRuntimeDir?: string;
}

interface Tracked {
  spec: JobSpec;
  dir: string;
  state?: JobState;
  /** Consecutive cycles Slurm did not know the job (reported as lost after 3). */
  lostCycles?: number;
}

const LOG_TAIL_DEFAULT = 64 * 1024;
/** Largest log tail `collect()` brings back. */
const COLLECT_LOG_MAX = 16 * 1024 * 1024;
/** Largest outputs manifest `collect()` accepts. */
const COLLECT_MANIFEST_MAX = 16 * 1024 * 1024;

/** Slurm queue backend; see the module comment. */
export class SlurmBackend implements QueueBackend {
  readonly kind = "slurm";
  readonly #config: SlurmBackendOptions["config"];
  readonly #transport: Transport;
  readonly #intervals: PollIntervals;
  readonly #onPollError: (error: unknown) => void;
  readonly #jobs = new Map<string, Tracked>();
  readonly #active = new Set<string>();
  /** States the backend decided itself (dependency never satisfied → failed, then scancelled). */
  readonly #overrides = new Map<string, JobState>();
  readonly #listeners = new Set<JobUpdateListener>();
  #jobDir: Promise<string> | undefined;
  #runtimeDir: Promise<string> | undefined;
  readonly #pythonRuntimeDir: string | undefined;
  #interval: number;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #closed = false;
  readonly #stats: SlurmBackendStats = { execs: 0, sbatch: 0, pollCycles: 0, squeue: 0, sacct: 0, scancel: 0 };

  constructor(options: SlurmBackendOptions) {
    this.#config = options.config;
    this.#transport = options.transport ?? transportFor(options.config);
    this.#intervals = { min: 250, max: 5000, factor: 1.5, ...options.pollIntervals };
    this.#interval = this.#intervals.min;
    this.#onPollError = options.onPollError ?? (() => {});
    this.#pythonRuntimeDir = options.pythonRuntimeDir;
  }

  /** Setup lines putting the shipped runtime on PYTHONPATH (none when no runtime is shipped). */
  async #runtimeSetup(jobDir: string): Promise<string[]> {
    if (this.#pythonRuntimeDir === undefined) return [];
    const localDir = this.#pythonRuntimeDir;
    this.#runtimeDir ??= shipRuntime(this.#transport, localDir, jobDir);
    const remote = await this.#runtimeDir.catch((error: unknown) => {
      this.#runtimeDir = undefined;
      throw error;
    });
    return [`export PYTHONPATH=${shellQuote(remote)}\${PYTHONPATH:+:$PYTHONPATH}`];
  }

  /** The transport (for tests: e.g. connection counters). */
  get transport(): Transport {
    return this.#transport;
  }

  /** Counters of remote work since creation. */
  stats(): SlurmBackendStats {
    return { ...this.#stats };
  }

  /** The job directory on the cluster, with a leading `~` resolved once. */
  async #resolvedJobDir(): Promise<string> {
    this.#jobDir ??= (async () => {
      const dir = this.#config.jobDir;
      if (dir !== "~" && !dir.startsWith("~/")) return dir;
      const home = (await this.#exec('printf %s "$HOME"', { idempotent: true })).stdout.trim();
      return home + dir.slice(1);
    })();
    return this.#jobDir;
  }

  async #exec(command: string, options: { stdin?: string; idempotent?: boolean } = {}) {
    this.#stats.execs++;
    return this.#transport.exec(command, options);
  }

  /**
   * Submits the batch in one remote program (`submitProgram` in `remote-scripts.ts`). With `reuseExisting`
   * (resume after a crash), jobs Slurm already knows by name are returned instead of resubmitted;
   * the same happens on its own when the connection drops mid-submit.
   */
  async submit(jobs: readonly JobSpec[], options: { signal?: AbortSignal; reuseExisting?: boolean } = {}): Promise<SubmittedJob[]> {
    this.#assertOpen();
    if (jobs.length === 0) return [];
    if (options.signal?.aborted) throw new AbortedError("submit aborted before anything was submitted");
    const jobDir = await this.#resolvedJobDir();
    const runtimeSetup = await this.#runtimeSetup(jobDir);
    // A job whose script cannot be rendered (a container not configured, an invalid env name)
    // is refused under its own name, before anything is submitted; it would fail the same again.
    const rendering = new Map<string, JobRefusal>();
    const items: SubmitItem[] = [];
    for (const spec of jobs) {
      try {
        const resolved = resolveBatchJob(this.#config, spec, jobDir);
        const input = { ...resolved, setup: [...runtimeSetup, ...resolved.setup] };
        // Secret-looking env names travel with the secrets (0600 file), never in the script.
        const secretEnv = { ...secretLookingEnv(this.#config, spec), ...spec.secretEnv };
        const secrets = Object.keys(secretEnv).length > 0 ? renderSecretEnv(secretEnv) : undefined;
        items.push({
          jobName: spec.jobName,
          remoteAttemptDir: input.remoteAttemptDir,
          script: renderBatchScript(input),
          ...(secrets !== undefined ? { secretEnv: secrets } : {}),
        });
      } catch (error) {
        rendering.set(spec.jobName, { reason: `step "${spec.step}": ${(error as Error).message}`, permanent: true });
      }
    }
    if (rendering.size > 0) {
      throw new BackendError("slurm", [...rendering.values()].map((r) => r.reason).join("; "), { permanent: true, refused: rendering });
    }
    let result;
    try {
      result = await this.#exec(RUN_STDIN, { stdin: submitProgram(items, { reuseExisting: options.reuseExisting ?? false }) });
    } catch (error) {
      if (!(error instanceof ConnectionDroppedError)) throw error;
      // Some may have been submitted: submit again, reusing jobs Slurm already knows by name.
      result = await this.#exec(RUN_STDIN, { stdin: submitProgram(items, { reuseExisting: true }) });
    }
    const outcome = parseSubmitOutput(result.stdout);
    this.#stats.sbatch += outcome.ok.size + outcome.errors.size;
    if (outcome.ok.size !== jobs.length) {
      const submitted = [...outcome.ok.values()];
      if (submitted.length > 0) await this.cancel(submitted).catch(() => {});
      // Each job sbatch refused gets its own error (the runner fails its step alone and submits
      // the others again); without one, the whole batch failed for the same reason.
      const refused = new Map<string, JobRefusal>();
      for (const [index, error] of outcome.errors) {
        const spec = jobs[index];
        if (spec) refused.set(spec.jobName, { reason: `sbatch refused step "${spec.step}" (job ${spec.jobName}): ${error}`, permanent: false });
      }
      const firstError = [...refused.values()][0];
      const detail = firstError ? firstError.reason : `unexpected output: ${(result.stdout + result.stderr).trim().slice(0, 500) || `(none, exit ${result.code})`}`;
      throw new BackendError(
        "slurm",
        `sbatch failed for ${jobs.length - outcome.ok.size} of ${jobs.length} job(s); ${submitted.length} submitted before it were cancelled. ${detail}`,
        { refused },
      );
    }
    const submitted = jobs.map((spec, i) => {
      const id = outcome.ok.get(i) as string;
      const dir = items[i]?.remoteAttemptDir ?? "";
      this.#track(id, spec, dir);
      return { jobName: spec.jobName, backendJobId: id, jobDir: dir };
    });
    this.#schedule(true);
    return submitted;
  }

  #track(id: string, spec: JobSpec, dir: string): void {
    this.#jobs.set(id, { spec, dir });
    this.#active.add(id);
  }

  /** States of many jobs in one exec (plus a `sacct` exec for ids Slurm's controller forgot). */
  async poll(backendJobIds: readonly string[]): Promise<Map<string, JobState>> {
    this.#assertOpen();
    const states = new Map<string, JobState>();
    const ids = [...new Set(backendJobIds)].filter((id) => {
      if (isSlurmJobId(id)) return true;
      states.set(id, { status: "lost", reason: `"${id}" is not a Slurm job id` });
      return false;
    });
    if (ids.length === 0) return states;
    const markerDirs = new Map<string, string>();
    for (const id of ids) {
      const dir = this.#jobs.get(id)?.dir;
      if (dir) markerDirs.set(id, dir);
    }
    this.#stats.pollCycles++;
    this.#stats.squeue++;
    const result = await this.#exec(RUN_STDIN, { stdin: pollProgram(ids, markerDirs), idempotent: true });
    const { squeue, markers, timedOut } = parsePollOutput(result.stdout);
    const infos = new Map(parseSqueue(squeue).map((info) => [info.jobId, info]));
    const missing = ids.filter((id) => !infos.has(id) && !markers.has(id) && !this.#overrides.has(id));
    if (missing.length > 0) {
      this.#stats.sacct++;
      const sacct = await this.#exec(`${DEFINE_SEP}; ${sacctCommand(missing)} || true`, { idempotent: true });
      for (const info of parseSacct(sacct.stdout)) if (missing.includes(info.jobId)) infos.set(info.jobId, info);
    }
    const neverSatisfied: string[] = [];
    for (const id of ids) {
      const override = this.#overrides.get(id);
      const info = infos.get(id);
      const context = { timeLimitSeconds: this.#jobs.get(id)?.spec.resources.timeLimitSeconds, timedOut: timedOut.has(id) };
      if (override) states.set(id, override);
      else if (info) {
        const state = toJobState(withMarker(info, markers.get(id)), context);
        if (isDependencyNeverSatisfied(info)) {
          neverSatisfied.push(id);
          this.#overrides.set(id, state);
        }
        states.set(id, state);
      } else if (markers.has(id)) states.set(id, markerState(id, markers.get(id) as number, context));
      else states.set(id, { status: "lost", reason: `Slurm does not know job ${id} (finished and purged, or never submitted)` });
    }
    if (neverSatisfied.length > 0) await this.#scancel(neverSatisfied, []);
    return states;
  }

  /** Connection notices of the transport (SSH outages, refusals); none on a login node. */
  onNotice(listener: BackendNoticeListener): () => void {
    return this.#transport.onNotice?.(listener) ?? (() => {});
  }

  /** Listens for state changes of jobs this instance submitted or adopted. */
  onUpdate(listener: JobUpdateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** One `scancel` for all ids; also deletes secret files of jobs that never started. */
  async cancel(backendJobIds: readonly string[]): Promise<void> {
    this.#assertOpen();
    const ids = backendJobIds.filter(isSlurmJobId);
    if (ids.length === 0) return;
    const dirs = ids.flatMap((id) => {
      const dir = this.#jobs.get(id)?.dir;
      return dir ? [dir] : [];
    });
    await this.#scancel(ids, dirs);
    this.#schedule(true);
  }

  async #scancel(ids: readonly string[], dirs: readonly string[]): Promise<void> {
    this.#stats.scancel++;
    await this.#exec(RUN_STDIN, { stdin: cancelProgram(ids, dirs), idempotent: true });
  }

  /** Tail of a job's stdout (default) or stderr, read over SFTP (or directly on a login node). */
  async logs(backendJobId: string, options: LogOptions = {}): Promise<string> {
    this.#assertOpen();
    const job = this.#known(backendJobId);
    const file = `${job.dir}/${options.stream === "stderr" ? STDERR_FILE : STDOUT_FILE}`;
    const read = await this.#transport.readFile(file, { tailBytes: options.tailBytes ?? LOG_TAIL_DEFAULT });
    return read?.data.toString("utf8") ?? "";
  }

  /** Brings `stdout.log`, `stderr.log`, `outputs.json` and the exit-code marker into `attemptDir`. */
  async collect(backendJobId: string): Promise<void> {
    this.#assertOpen();
    const job = this.#known(backendJobId);
    await mkdir(job.spec.attemptDir, { recursive: true });
    const files = [
      { name: STDOUT_FILE, max: COLLECT_LOG_MAX, log: true },
      { name: STDERR_FILE, max: COLLECT_LOG_MAX, log: true },
      { name: OUTPUTS_FILE, max: COLLECT_MANIFEST_MAX, log: false },
      { name: EXIT_CODE_FILE, max: 64, log: false },
    ];
    await Promise.all(
      files.map(async ({ name, max, log }) => {
        const read = await this.#transport.readFile(`${job.dir}/${name}`, { tailBytes: max });
        if (!read) {
          if (log) await writeFile(join(job.spec.attemptDir, name), "");
          return;
        }
        if (!log && read.size > max) {
          throw new BackendError("slurm", `${name} of job ${backendJobId} is ${read.size} bytes (limit ${max}); not collected`);
        }
        const note = read.size > read.data.length ? `[gpu-dag: first ${read.size - read.data.length} bytes not collected]\n` : "";
        await writeFile(join(job.spec.attemptDir, name), note ? Buffer.concat([Buffer.from(note), read.data]) : read.data);
      }),
    );
  }

  /** The job's attempt directory on the cluster (deterministic from run, step and attempt). */
  async jobDirFor(spec: JobSpec): Promise<string> {
    return remoteAttemptDir(await this.#resolvedJobDir(), spec);
  }

  /** Watches a job submitted by an earlier controller and returns its current state. */
  async adopt(spec: JobSpec, backendJobId: string): Promise<JobState> {
    this.#assertOpen();
    const jobDir = await this.#resolvedJobDir();
    this.#track(backendJobId, spec, remoteAttemptDir(jobDir, spec));
    const state = (await this.poll([backendJobId])).get(backendJobId) ?? { status: "lost", reason: "no answer" };
    const job = this.#jobs.get(backendJobId);
    if (job) job.state = state;
    if (isTerminal(state)) this.#active.delete(backendJobId);
    else this.#schedule(true);
    return state;
  }

  /** Stops polling and closes the connection. Jobs keep running. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#ticking?.catch(() => {});
    this.#listeners.clear();
    await this.#transport.close();
  }

  #known(id: string): Tracked {
    const job = this.#jobs.get(id);
    if (!job) throw new BackendError("slurm", `job ${id} was not submitted or adopted by this backend`);
    return job;
  }

  #assertOpen(): void {
    if (this.#closed) throw new BackendError("slurm", "backend is closed");
  }

  /** (Re)arms the poll timer; `reset` goes back to the fastest interval. */
  #schedule(reset: boolean): void {
    if (this.#closed) return;
    if (reset) this.#interval = this.#intervals.min;
    if (this.#active.size === 0) return;
    if (this.#timer) {
      if (!reset) return;
      clearTimeout(this.#timer);
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#ticking) return void this.#ticking.then(() => this.#schedule(false));
      this.#ticking = this.#tick().finally(() => {
        this.#ticking = undefined;
      });
    }, this.#interval);
  }

  async #tick(): Promise<void> {
    let changed = false;
    try {
      const ids = [...this.#active];
      const states = ids.length > 0 ? await this.poll(ids) : new Map<string, JobState>();
      for (const [id, state] of states) {
        const job = this.#jobs.get(id);
        if (!job || !this.#active.has(id)) continue;
        const previous = job.state;
        if (state.status === "lost" && (job.lostCycles = (job.lostCycles ?? 0) + 1) < 3) continue; // may be transient
        if (state.status !== "lost") job.lostCycles = 0;
        if (!previous || previous.status !== state.status) {
          changed = true;
          job.state = state;
          if (isTerminal(state)) this.#active.delete(id);
          for (const listener of [...this.#listeners]) {
            try {
              listener(id, state);
            } catch {
              // a listener's failure is its own
            }
          }
        }
      }
    } catch (error) {
      if (!this.#closed) this.#onPollError(error);
    }
    if (this.#closed) return;
    this.#interval = changed ? this.#intervals.min : Math.min(this.#intervals.max, this.#interval * this.#intervals.factor);
    this.#schedule(false);
  }
}

function withMarker(info: SlurmJobInfo, marker: number | undefined): SlurmJobInfo {
  return marker !== undefined && info.exitCode === null ? { ...info, exitCode: marker } : info;
}

function markerState(id: string, code: number, context: JobStateContext): JobState {
  if (context.timedOut) return toJobState({ jobId: id, state: "FAILED", reason: "", exitCode: code, signal: null, nodes: "", name: "" }, context);
  if (code === 0) return { status: "succeeded", exitCode: 0 };
  return {
    status: "failed",
    exitCode: code,
    signal: null,
    infrastructure: false,
    reason: `Slurm job ${id} exited with code ${code} (from its exit-code marker)`,
  };
}

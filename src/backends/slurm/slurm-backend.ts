/**
 * {@link QueueBackend} on Slurm, over SSH or on a login node.
 *
 * Round trips, per operation:
 * - `submit(batch)`: ONE remote program writes every script, secret and input file and runs
 *   `sbatch` for each single job and once per job array (a whole ready set in one exec). Map
 *   elements sharing `group.key`, queue and resources go as arrays (`--array=0-N%K`, chunked at
 *   the cluster's `MaxArraySize`, asked once); each element keeps its own id `<array>_<index>`,
 *   attempt directory, logs, outputs and state (submit-batch.ts, submit-program.ts).
 * - each poll cycle: ONE exec running one `squeue` for every active job plus reading every
 *   exit-code marker; a second (`sacct`) only for ids Slurm's controller has forgotten and no
 *   marker explains.
 * - `cancel`: one `scancel` for all ids (an array whose every element goes is named by its array
 *   id). `logs`/`collect`: SFTP reads of tails.
 *
 * Poll interval is adaptive (poll-loop.ts): {@link PollIntervals.min} right after a submit or a
 * state change, then ×{@link PollIntervals.factor} per quiet cycle up to {@link PollIntervals.max}.
 *
 * Per-job state lives in `#jobs` (what was submitted/adopted, last reported state) and `#active`
 * (ids still queued or running, polled each cycle). Rendering and refusing a batch live in
 * submit-batch.ts, turning poll answers into states in poll-states.ts, collecting files in
 * collect-files.ts.
 *
 * @module
 */
import { AbortedError, BackendError } from "../../errors.js";
import {
  type BackendNoticeListener,
  isTerminal,
  type JobSpec,
  type JobState,
  type JobUpdateListener,
  type LogOptions,
  type PathProblem,
  type QueueBackend,
  type ResourceProblem,
  type ResourceRequest,
  STDERR_FILE,
  STDOUT_FILE,
  type StepPaths,
  type SubmittedJob,
} from "../queue-backend.js";
import { addArrayElement, scancelIds } from "./array-ids.js";
import { ClusterFacts } from "./cluster-facts.js";
import { collectFiles } from "./collect-files.js";
import { keepScripts } from "./keep-scripts.js";
import { checkPartitionCapacity } from "./partition-capacity.js";
import { checkClusterPaths } from "./path-check.js";
import { type PollCycleContext, pollCycle } from "./poll-cycle.js";
import { PollLoop, type TrackedJob } from "./poll-loop.js";
import { cancelProgram, RUN_STDIN } from "./remote-scripts.js";
import { remoteAttemptDir } from "./resolve-job.js";
import { ShippedCode } from "./ship-code.js";
import { ShippedRuntime } from "./ship-runtime.js";
import type { SlurmBackendOptions, SlurmBackendStats } from "./slurm-backend-options.js";
import { isSlurmJobId } from "./slurm-output.js";
import { attemptDirsOf, submitBatch, submitFailure } from "./submit-batch.js";
import { parseSubmitOutput, submitProgram } from "./submit-program.js";
import { ConnectionDroppedError, type ExecResult, type Transport } from "./transport.js";
import { transportFor } from "./transport-for.js";

export type { PollIntervals } from "./poll-loop.js";
export type { SlurmBackendOptions, SlurmBackendStats } from "./slurm-backend-options.js";

const LOG_TAIL_DEFAULT = 64 * 1024;

/** Slurm queue backend; see the module comment. */
export class SlurmBackend implements QueueBackend {
  readonly kind = "slurm";
  /** `--array=…%K` keeps a map to its throttle: the runner may submit all ready elements at once. */
  readonly throttlesGroups = true;
  readonly #config: SlurmBackendOptions["config"];
  readonly #transport: Transport;
  readonly #jobs = new Map<string, TrackedJob>();
  readonly #active = new Set<string>();
  /** States the backend decided itself (dependency never satisfied → failed, then scancelled). */
  readonly #overrides = new Map<string, JobState>();
  /** Ids this instance scancelled (a pending array element leaves no trace in Slurm). */
  readonly #cancelled = new Set<string>();
  readonly #listeners = new Set<JobUpdateListener>();
  /** Arrays this instance submitted: array id → its element ids (for cancelling whole arrays). */
  readonly #arrays = new Map<string, Set<string>>();
  readonly #facts: ClusterFacts;
  /** The job-side runtime to ship, when there is one. */
  readonly #runtime: ShippedRuntime | undefined;
  /** The user's code to ship, when the run names some (`code` in the cluster config). */
  readonly #code: ShippedCode | undefined;
  readonly #loop: PollLoop;
  readonly #pollContext: PollCycleContext = {
    exec: (command, options) => this.#exec(command, options),
    dirOf: (id) => this.#jobs.get(id)?.dir,
    timeLimitOf: (id) => this.#jobs.get(id)?.spec.resources.timeLimitSeconds,
    overrides: this.#overrides,
    cancelled: this.#cancelled,
    count: (command) => void this.#stats[command]++,
  };
  #closed = false;
  readonly #stats: SlurmBackendStats = { execs: 0, sbatch: 0, arrays: 0, pollCycles: 0, squeue: 0, sacct: 0, scancel: 0, pathChecks: 0, codeUploads: 0 };

  constructor(options: SlurmBackendOptions) {
    this.#config = options.config;
    this.#transport = options.transport ?? transportFor(options.config);
    this.#facts = new ClusterFacts((command, o) => this.#exec(command, o), options.config.jobDir, options.maxArraySize);
    this.#runtime = options.pythonRuntimeDir === undefined ? undefined : new ShippedRuntime(this.#transport, options.pythonRuntimeDir);
    const code = options.config.code;
    this.#code = code?.snapshot ? new ShippedCode(this.#transport, { ...code, snapshot: code.snapshot }, () => void this.#stats.codeUploads++) : undefined;
    this.#loop = new PollLoop({
      intervals: options.pollIntervals,
      jobs: this.#jobs,
      active: this.#active,
      listeners: this.#listeners,
      poll: (ids) => this.poll(ids),
      onPollError: options.onPollError ?? (() => {}),
    });
  }

  /** The transport (for tests: e.g. connection counters). */
  get transport(): Transport {
    return this.#transport;
  }

  /** Requests no partition can ever meet; one `sinfo` (see partition-capacity.ts). */
  checkResources(requests: readonly ResourceRequest[]): Promise<ResourceProblem[]> {
    return checkPartitionCapacity(this.#transport, this.#config, requests);
  }

  /** Paths the steps need that are not there (made here with `checkPaths: create`): one exec for the run (path-check.ts). */
  async checkPaths(steps: readonly StepPaths[]): Promise<PathProblem[]> {
    this.#assertOpen();
    const jobDir = await this.#facts.jobDir().catch(() => undefined);
    if (jobDir === undefined) return []; // the cluster cannot be asked: the run finds out as before
    return checkClusterPaths(
      (program) => {
        this.#stats.pathChecks++;
        return this.#exec(RUN_STDIN, { stdin: program, idempotent: true }); // mkdir -p too
      },
      this.#config,
      steps,
      jobDir,
    );
  }

  /** Counters of remote work since creation. */
  stats(): SlurmBackendStats {
    return { ...this.#stats };
  }

  async #exec(command: string, options: { stdin?: string; idempotent?: boolean } = {}) {
    this.#stats.execs++;
    return this.#transport.exec(command, options);
  }

  /**
   * Submits the batch in one remote program (`submitProgram` in `submit-program.ts`). With
   * `reuseExisting` (resume after a crash), jobs Slurm already has — single jobs by name, array
   * elements through their array's element list — are returned instead of resubmitted; the same
   * happens on its own when the connection drops mid-submit.
   */
  async submit(jobs: readonly JobSpec[], options: { signal?: AbortSignal; reuseExisting?: boolean } = {}): Promise<SubmittedJob[]> {
    this.#assertOpen();
    if (jobs.length === 0) return [];
    if (options.signal?.aborted) throw new AbortedError("submit aborted before anything was submitted");
    const jobDir = await this.#facts.jobDir();
    const runtimeSetup = (await this.#runtime?.setupLines(jobDir)) ?? [];
    // The user's code, per run (its own copy): first its lines, then the runtime's (first on PYTHONPATH).
    const codeSetup = new Map<string, readonly string[]>();
    for (const runId of new Set(jobs.map((j) => j.runId))) codeSetup.set(runId, (await this.#code?.setupLines(jobDir, runId)) ?? []);
    const maxArraySize = jobs.some((j) => j.group) ? await this.#facts.maxArraySize() : 0;
    const batch = submitBatch(this.#config, jobs, jobDir, { jobSetup: (spec) => [...(codeSetup.get(spec.runId) ?? []), ...runtimeSetup], maxArraySize });
    let result: ExecResult;
    try {
      result = await this.#exec(RUN_STDIN, { stdin: submitProgram(batch, { reuseExisting: options.reuseExisting ?? false }) });
    } catch (error) {
      if (!(error instanceof ConnectionDroppedError)) throw error;
      // Some may have been submitted: submit again, reusing jobs Slurm already knows.
      result = await this.#exec(RUN_STDIN, { stdin: submitProgram(batch, { reuseExisting: true }) });
    }
    const outcome = parseSubmitOutput(result.stdout);
    this.#stats.sbatch += outcome.sbatchCalls;
    this.#stats.arrays += outcome.arrayCalls;
    if (outcome.ok.size !== jobs.length) {
      // Only what this call submitted: a job found already submitted belongs to an earlier one.
      const submitted = [...outcome.ok].filter(([i]) => !outcome.reused.has(i)).map(([, id]) => id);
      if (submitted.length > 0) await this.cancel(submitted).catch(() => {});
      throw submitFailure(jobs, outcome, result);
    }
    await keepScripts(jobs, batch);
    const dirs = attemptDirsOf(batch);
    const submitted = jobs.map((spec, i) => {
      const id = outcome.ok.get(i) as string;
      const dir = dirs.get(i) ?? "";
      this.#track(id, spec, dir);
      if (!outcome.reused.has(i)) addArrayElement(this.#arrays, id);
      return { jobName: spec.jobName, backendJobId: id, jobDir: dir };
    });
    this.#loop.schedule(true);
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
    this.#stats.pollCycles++;
    const neverSatisfied = await pollCycle(ids, this.#pollContext, states);
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
    await this.#scancel(
      scancelIds(ids, this.#arrays, (id) => !this.#active.has(id)),
      dirs,
    );
    for (const id of ids) this.#cancelled.add(id);
    this.#loop.schedule(true);
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
    await collectFiles(this.#transport, backendJobId, job.dir, job.spec.attemptDir);
  }

  /** The job's attempt directory on the cluster (deterministic from run, step and attempt). */
  async jobDirFor(spec: JobSpec): Promise<string> {
    return remoteAttemptDir(await this.#facts.jobDir(), spec);
  }

  /** Watches a job submitted by an earlier controller and returns its current state. */
  async adopt(spec: JobSpec, backendJobId: string): Promise<JobState> {
    this.#assertOpen();
    const jobDir = await this.#facts.jobDir();
    this.#track(backendJobId, spec, remoteAttemptDir(jobDir, spec));
    const state = (await this.poll([backendJobId])).get(backendJobId) ?? { status: "lost", reason: "no answer" };
    const job = this.#jobs.get(backendJobId);
    if (job) job.state = state;
    if (isTerminal(state)) this.#active.delete(backendJobId);
    else this.#loop.schedule(true);
    return state;
  }

  /** Stops polling and closes the connection. Jobs keep running. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#loop.stop();
    this.#listeners.clear();
    await this.#transport.close();
  }

  #known(id: string): TrackedJob {
    const job = this.#jobs.get(id);
    if (!job) throw new BackendError("slurm", `job ${id} was not submitted or adopted by this backend`);
    return job;
  }

  #assertOpen(): void {
    if (this.#closed) throw new BackendError("slurm", "backend is closed");
  }
}

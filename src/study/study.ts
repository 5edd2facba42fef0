/**
 * `Study`: a search over a pipeline's `${pipeline.x}` parameters — grid, seeded random, or
 * successive halving — for the trial with the best objective. Each trial is a child run of the
 * pipeline, driven by the study's own controller in this process (see study-controller.ts);
 * the study is journaled under `<home>/studies/<id>/`, so `Study.resume(id)` (or
 * `gpu-dag study resume <id>`) continues it after a crash without running a finished trial again.
 *
 * @module
 */
import { join } from "node:path";
import { type ClusterConfigInput, storeFor } from "../api/create-run.js";
import type { QueueBackend } from "../backends/queue-backend.js";
import { validateWith } from "../config/yaml-schema.js";
import { PipelineDefinition } from "../pipeline/pipeline-definition.js";
import type { PipelineSpec } from "../pipeline/pipeline-spec.js";
import { defaultStoreHome, FileStore } from "../store/file-store.js";
import { isStale, readLock } from "../store/run-lock.js";
import type { Store } from "../store/store.js";
import { driveStudy } from "./study-controller.js";
import type { StudyEventListener } from "./study-events.js";
import { readStudyJournal, readStudyRecord, type StudyRecord, studyDir } from "./study-files.js";
import { replayStudy } from "./study-journal.js";
import { type StudySpecInput, StudySpecSchema } from "./study-spec.js";
import { bestTrial, sortRows, type TrialRow, trialRows } from "./study-table.js";

export type { TrialRow } from "./study-table.js";

import { submitStudy } from "./submit-study.js";

/** A study lock whose heartbeat is older than this has no live controller (the lock's own default). */
const LOCK_STALE_MS = 15_000;

/** Options of `new Study(…)`: the study spec (see study-spec.ts), its pipeline, and where it runs. */
export type StudyOptions = StudySpecInput & {
  pipeline: PipelineDefinition | PipelineSpec;
  /** Store of the trials' runs (default: the file store at `home`, else `GPU_DAG_HOME`). */
  store?: Store;
  home?: string;
  /** Cluster config name, path or object, as for a run (default `local`). */
  cluster?: string | ClusterConfigInput;
  configDir?: string;
  runtime?: "real" | "simulate";
  /** Study id (default: generated, `study-<time>-<random>`). */
  id?: string;
};

/** Options of {@link Study.run} and {@link Study.resume}. */
export interface StudyRunOptions {
  /** Aborting cancels the running trials; the study ends `cancelled` (resume continues it). */
  signal?: AbortSignal;
  onEvent?: StudyEventListener;
  /** One backend for every trial instead of the cluster config's (tests, custom backends). Not closed. */
  backend?: QueueBackend;
  /** Base delay of the trials' step retries, ms (default 1000). */
  retryBackoffMs?: number;
}

/** A study as its journal tells it. */
export interface StudyView {
  studyId: string;
  record: StudyRecord;
  /** `running` while a controller drives it; `interrupted` when none does and it is unfinished. */
  status: "running" | "interrupted" | "succeeded" | "failed" | "cancelled";
  /** Every trial, in trial order. */
  trials: TrialRow[];
  /** The trials sorted best first (see study-table.ts). */
  table: TrialRow[];
  best?: TrialRow;
}

/**
 * A study; see the module comment.
 *
 * @example
 * ```ts
 * import { Pipeline, Study, Task } from "gpu-dag";
 *
 * // A step whose metric peaks at x = 3.
 * const score = new Task({
 *   projectName: "docs", taskName: "score",
 *   command: ["sh", "-c", `echo '{"metrics": {"score": '"$((10 - ($1 - 3) * ($1 - 3)))"'} }' > "$GPU_DAG_OUTPUT_DIR/outputs.json"`, "sh", "{x}"],
 *   parameters: { x: 0 },
 * });
 * await score.createTask();
 * const pipeline = new Pipeline({ projectName: "docs", pipelineName: "sweep" }).addParameter("x", 0);
 * pipeline.addStep({ name: "eval", baseTaskId: score.id!, executionQueue: "default", parameterOverride: { x: "${pipeline.x}" } });
 *
 * const study = new Study({
 *   pipeline,
 *   parameters: { x: { int: { min: 1, max: 5 } } },
 *   objective: 'eval.metrics["score"]',
 *   concurrency: 2,
 * });
 * const result = await study.run();
 * console.log(result.best?.params, result.best?.objective); // prints: { x: 3 } 10
 * ```
 */
export class Study {
  readonly #options: StudyOptions;
  readonly spec;
  #record: StudyRecord | undefined;

  /** Validates the spec's fields (a `ConfigError` naming the field); the pipeline checks come with {@link Study.submit}. */
  constructor(options: StudyOptions) {
    const { pipeline: _p, store: _s, home: _h, cluster: _c, configDir: _d, runtime: _r, id: _i, ...spec } = options;
    this.#options = options;
    this.spec = validateWith(StudySpecSchema, spec, "new Study()");
  }

  /** The study's id once submitted. */
  get id(): string | undefined {
    return this.#record?.id;
  }

  /** Checks the study against its pipeline and cluster (every problem at once) and records it; nothing runs. */
  async submit(): Promise<string> {
    if (this.#record) return this.#record.id;
    const { store, home } = locate(this.#options);
    const pipeline = this.#options.pipeline instanceof PipelineDefinition ? this.#options.pipeline.toSpec() : PipelineDefinition.fromSpec(this.#options.pipeline).toSpec();
    const { cluster, configDir, runtime, id } = this.#options;
    this.#record = await submitStudy(this.spec, pipeline, {
      store,
      home,
      ...(cluster !== undefined ? { cluster } : {}),
      ...(configDir ? { configDir } : {}),
      ...(runtime ? { runtime } : {}),
      ...(id ? { id } : {}),
    });
    return this.#record.id;
  }

  /** Submits (if not yet) and drives the study in this process until it ends; resolves with its view. */
  async run(options: StudyRunOptions = {}): Promise<StudyView> {
    const id = await this.submit();
    return Study.resume(id, { ...pick(this.#options), ...options, fresh: true });
  }

  /** Continues study `studyId` from its journal (finished trials are kept, running ones resumed). */
  static async resume(studyId: string, options: StudyRunOptions & { store?: Store; home?: string; fresh?: boolean } = {}): Promise<StudyView> {
    const { store, home } = locate(options);
    const owned = options.store === undefined && Boolean(options.home);
    try {
      await driveStudy(studyId, {
        store,
        home,
        resume: options.fresh !== true,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
        ...(options.backend ? { backend: options.backend } : {}),
        ...(options.retryBackoffMs !== undefined ? { retryBackoffMs: options.retryBackoffMs } : {}),
      });
    } finally {
      if (owned) await store.close();
    }
    return Study.view(studyId, { home });
  }

  /** Study `studyId` as its journal tells it (any process, while it runs or after). */
  static async view(studyId: string, options: { store?: Store; home?: string } = {}): Promise<StudyView> {
    const { home } = locate(options);
    const record = await readStudyRecord(home, studyId);
    const state = replayStudy(await readStudyJournal(home, studyId));
    const lock = state.finished ? undefined : await readLock(join(studyDir(home, studyId), "lock.json"));
    const live = lock !== undefined && !isStale(lock, LOCK_STALE_MS);
    const trials = trialRows(state, live);
    const best = bestTrial(state, record.spec, live);
    return {
      studyId,
      record,
      status: state.finished ? state.finished.status : live ? "running" : "interrupted",
      trials,
      table: sortRows(trials, record.spec),
      ...(best ? { best } : {}),
    };
  }
}

/** The store and its directory: studies need a file store's home. */
function locate(options: { store?: Store; home?: string }): { store: Store; home: string } {
  const store = storeFor(options);
  return { store, home: options.home ?? (store instanceof FileStore ? store.home : defaultStoreHome()) };
}

function pick(options: StudyOptions): { store?: Store; home?: string } {
  return { ...(options.store ? { store: options.store } : {}), ...(options.home ? { home: options.home } : {}) };
}

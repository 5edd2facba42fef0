/**
 * Every error gpu-dag throws. Each class has a stable `code` (safe to match on), a `name`,
 * context fields that say where the problem is, and an optional `cause`.
 *
 * Some errors are **permanent** (`permanent: true`, see {@link isPermanentError}): trying again
 * cannot help (an SSH host key that does not match known_hosts, a key the server refuses). The
 * SSH transport then stops connecting, and the runner fails the run at once instead of retrying
 * each step.
 *
 * @module
 */

/** Stable error codes. Match on these, not on messages. */
export const ErrorCode = {
  Config: "E_CONFIG",
  TaskOption: "E_TASK_OPTION",
  TaskNotFound: "E_TASK_NOT_FOUND",
  PipelineInvalid: "E_PIPELINE_INVALID",
  Placeholder: "E_PLACEHOLDER",
  Arguments: "E_ARGUMENTS",
  Manifest: "E_MANIFEST",
  Store: "E_STORE",
  Backend: "E_BACKEND",
  HostKey: "E_HOST_KEY",
  SshAuth: "E_SSH_AUTH",
  RunNotFound: "E_RUN_NOT_FOUND",
  /** A run, step or model reference names nothing, or more than one thing. */
  Ref: "E_REF",
  /** A results query (filter, sort key, metric name, report option) cannot be understood. */
  Query: "E_QUERY",
  RunLocked: "E_RUN_LOCKED",
  Aborted: "E_ABORTED",
  NotImplemented: "E_NOT_IMPLEMENTED",
  /** The run controller tried a step transition its state machine does not have (a gpu-dag bug). */
  StateTransition: "E_STATE_TRANSITION",
} as const;

/** One of {@link ErrorCode}'s values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every gpu-dag error. */
export class GpuDagError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** True when trying again cannot help (see the module comment). */
  readonly permanent: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; permanent?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.permanent = options?.permanent ?? false;
    this.name = new.target.name;
  }
}

/** True when `error`, or an error in its `cause` chain, is a permanent {@link GpuDagError}. */
export function isPermanentError(error: unknown): error is GpuDagError {
  return permanentErrorOf(error) !== undefined;
}

/** The permanent {@link GpuDagError} in `error`'s `cause` chain (itself included), if any. */
export function permanentErrorOf(error: unknown): GpuDagError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof GpuDagError && e.permanent) return e;
  }
  return undefined;
}

/**
 * A cluster config, pipeline (file or object) or task config is malformed or over the document
 * limits (10 MiB, 64 levels of nesting, 100 YAML alias nodes). The message names the file, the
 * line, the field and the value given.
 */
export class ConfigError extends GpuDagError {
  /** File the problem is in, when there is one. */
  readonly file: string | undefined;
  /** Dotted path of the field, e.g. `queues.oneshot-a100x1.gpus`. */
  readonly field: string | undefined;
  /** 1-based line in `file`, when known. */
  readonly line: number | undefined;

  constructor(message: string, where: { file?: string; field?: string; line?: number; cause?: unknown } = {}) {
    super(ErrorCode.Config, message, { cause: where.cause });
    this.file = where.file;
    this.field = where.field;
    this.line = where.line;
  }
}

/** A task draft option has the wrong type or value. */
export class TaskOptionError extends GpuDagError {
  /** The task class, e.g. `LMEvalTask`. */
  readonly taskType: string;
  /** The option name, e.g. `modelId`. */
  readonly option: string;

  constructor(taskType: string, option: string, message: string) {
    super(ErrorCode.TaskOption, message);
    this.taskType = taskType;
    this.option = option;
  }
}

/** No task draft with this id exists in the store. */
export class TaskNotFoundError extends GpuDagError {
  readonly taskId: string;
  constructor(taskId: string, message = `task draft "${taskId}" not found in the store`) {
    super(ErrorCode.TaskNotFound, message);
    this.taskId = taskId;
  }
}

/** One problem found while validating a pipeline. */
export interface PipelineProblem {
  /** Step the problem is in (absent for pipeline-wide problems such as a cycle). */
  step?: string;
  /** Field of the step, e.g. `parents` or `parameterOverride.modelId`. */
  field?: string;
  /** Human-readable text. */
  message: string;
}

/** A pipeline failed validation. Carries every problem found, not just the first. */
export class PipelineValidationError extends GpuDagError {
  readonly pipelineName: string;
  readonly problems: readonly PipelineProblem[];

  constructor(pipelineName: string, problems: readonly PipelineProblem[]) {
    const lines = groupProblems(problems).map((p) => `  - ${formatProblem(p)}`);
    super(ErrorCode.PipelineInvalid, `pipeline "${pipelineName}" is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines.join("\n")}`);
    this.pipelineName = pipelineName;
    this.problems = problems;
  }
}

/** A problem as printed: the same field and message in several steps is one line naming them all. */
interface PrintedProblem extends PipelineProblem {
  steps?: readonly string[];
}

/** How many step names a grouped problem spells out before counting the rest. */
const NAMED_STEPS = 3;

/** Merges problems that differ only in their step (an invalid inline task used by 10,000 steps is one line). */
function groupProblems(problems: readonly PipelineProblem[]): PrintedProblem[] {
  const groups = new Map<string, { first: PipelineProblem; steps: string[] }>();
  const out: Array<PipelineProblem | { first: PipelineProblem; steps: string[] }> = [];
  for (const problem of problems) {
    if (problem.step === undefined) {
      out.push(problem);
      continue;
    }
    const key = JSON.stringify([problem.field, problem.message]);
    const group = groups.get(key);
    if (group) group.steps.push(problem.step);
    else {
      const created = { first: problem, steps: [problem.step] };
      groups.set(key, created);
      out.push(created);
    }
  }
  return out.map((p) => ("first" in p ? (p.steps.length === 1 ? p.first : { ...p.first, steps: p.steps }) : p));
}

/** Formats one pipeline problem as `step "x", field: message` (or `steps "x", "y" and 8 more (10 steps), field: …`). */
export function formatProblem(p: PipelineProblem & { steps?: readonly string[] }): string {
  let step: string | undefined;
  if (p.steps && p.steps.length > 1) {
    const named = p.steps
      .slice(0, NAMED_STEPS)
      .map((s) => `"${s}"`)
      .join(", ");
    const more = p.steps.length - NAMED_STEPS;
    step = `steps ${named}${more > 0 ? ` and ${more.toLocaleString("en-US")} more` : ""} (${p.steps.length.toLocaleString("en-US")} steps)`;
  } else if (p.step !== undefined) step = `step "${p.step}"`;
  const where = [step, p.field].filter(Boolean).join(", ");
  return where ? `${where}: ${p.message}` : p.message;
}

/** A placeholder is malformed or cannot be resolved. */
export class PlaceholderError extends GpuDagError {
  readonly text: string;
  constructor(text: string, message: string) {
    super(ErrorCode.Placeholder, message);
    this.text = text;
  }
}

/** `wrapArguments()` could not parse its input. */
export class ArgumentsError extends GpuDagError {
  readonly input: string;
  /** 0-based character offset of the problem. */
  readonly offset: number;
  constructor(input: string, offset: number, message: string) {
    super(ErrorCode.Arguments, message);
    this.input = input;
    this.offset = offset;
  }
}

/**
 * A job's outputs manifest cannot be read, is not JSON, is over the document limits (10 MiB,
 * 64 levels), does not match the schema, or reports a model or artifact path outside its attempt
 * directory or that does not exist. The message names the file (and the field, value or path).
 */
export class ManifestError extends GpuDagError {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Manifest, message, options);
    this.file = file;
  }
}

/** The store could not read or write a record. */
export class StoreError extends GpuDagError {
  readonly path: string | undefined;
  constructor(message: string, options: { path?: string; cause?: unknown } = {}) {
    super(ErrorCode.Store, message, { cause: options.cause });
    this.path = options.path;
  }
}

/** Why a backend refused one job of a batch (see {@link BackendError.refused}). */
export interface JobRefusal {
  /** The job's own problem, e.g. `sbatch: error: invalid partition specified: x`. */
  reason: string;
  /** True when submitting the same job again cannot help. */
  permanent: boolean;
}

/** A queue backend failed (submission, polling, transport). */
export class BackendError extends GpuDagError {
  readonly backend: string;
  /** `permanent`: retrying cannot help (e.g. a job asks for more GPUs than the machine has): never retried. */
  /**
   * A submission refused for reasons of particular jobs: each such job by `jobName`, with its own
   * reason. Jobs of the batch not named here were refused for no fault of their own (nothing of
   * the batch stays submitted) and may be submitted again. Empty when the whole batch failed.
   */
  readonly refused: ReadonlyMap<string, JobRefusal>;
  constructor(backend: string, message: string, options?: { cause?: unknown; permanent?: boolean; refused?: ReadonlyMap<string, JobRefusal> }) {
    super(ErrorCode.Backend, message, options);
    this.backend = backend;
    this.refused = options?.refused ?? new Map();
  }
}

/** An SSH host presented a key that does not match known_hosts, or one not in it. Permanent. */
export class HostKeyError extends GpuDagError {
  /** The host as known_hosts names it: `host`, or `[host]:port`. */
  readonly host: string;
  /** Fingerprint of the key the host presented (`SHA256:…`). */
  readonly fingerprint: string;
  /** Fingerprints known_hosts holds for the host (empty when it is not listed). */
  readonly expected: readonly string[];
  constructor(host: string, fingerprint: string, message: string, expected: readonly string[] = []) {
    super(ErrorCode.HostKey, message, { permanent: true });
    this.host = host;
    this.fingerprint = fingerprint;
    this.expected = expected;
  }
}

/** The SSH server refused every key offered (or the key file cannot be used). Permanent. */
export class SshAuthError extends GpuDagError {
  /** `user@host:port`. */
  readonly target: string;
  /** The identity file offered. */
  readonly identityFile: string | undefined;
  constructor(target: string, identityFile: string | undefined, message: string, options?: { cause?: unknown }) {
    super(ErrorCode.SshAuth, message, { ...options, permanent: true });
    this.target = target;
    this.identityFile = identityFile;
  }
}

/** No run with this id (or id prefix, or name) exists in the store. */
export class RunNotFoundError extends GpuDagError {
  readonly runId: string;
  /** `hint`: a close run name, suggested in the message. */
  constructor(runId: string, hint?: string) {
    super(ErrorCode.RunNotFound, `run "${runId}" not found in the store${hint ? ` (did you mean "${hint}"?)` : ""}`);
    this.runId = runId;
  }
}

/**
 * A reference given by the user (a run id, id prefix or name; `run:step`; a model id) names
 * nothing in the store, or (an id prefix) more than one thing. `candidates` are what it could mean.
 */
export class RefError extends GpuDagError {
  readonly ref: string;
  readonly candidates: readonly string[];
  constructor(ref: string, message: string, candidates: readonly string[] = []) {
    super(ErrorCode.Ref, message);
    this.ref = ref;
    this.candidates = candidates;
  }
}

/** A results query cannot be understood: `option` names the option, the message the value and what was expected. */
export class QueryError extends GpuDagError {
  readonly option: string;
  constructor(option: string, message: string) {
    super(ErrorCode.Query, message);
    this.option = option;
  }
}

/**
 * Another live controller drives this run: one holding its lock in this store (a process here or
 * a detached one), or a controller job on a cluster (`owner` names the job; `message` says where).
 */
export class RunLockedError extends GpuDagError {
  readonly runId: string;
  readonly owner: string;
  constructor(runId: string, owner: string, message?: string) {
    super(ErrorCode.RunLocked, message ?? `run "${runId}" is driven by another controller (${owner})`);
    this.runId = runId;
    this.owner = owner;
  }
}

/** The operation was cancelled through an AbortSignal. */
export class AbortedError extends GpuDagError {
  constructor(message = "aborted") {
    super(ErrorCode.Aborted, message);
  }
}

/** A feature whose issue has not been built yet. */
export class NotImplementedError extends GpuDagError {
  constructor(message: string) {
    super(ErrorCode.NotImplemented, message);
  }
}

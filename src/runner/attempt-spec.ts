/**
 * The one path from a planned step to a job: a step's rendered command, its queue and an attempt
 * number become the {@link JobSpec} a backend gets. The controller (fresh attempts), resume
 * (rebuilding a journaled attempt) and the dry run all build their specs here, so argv, env,
 * resources, job name and attempt directory cannot drift apart between them.
 *
 * @module
 */
import { type JobSpec, jobNameFor, type QueueBackend } from "../backends/queue-backend.js";
import { type ResolvedQueue, stepResources } from "../config/resolve-queue.js";
import type { PlannedStep } from "../pipeline/validate.js";
import type { Store } from "../store/store.js";
import type { ExecutionEnvironment } from "./environment.js";
import { type AheadOfRun, type ResolutionScope, type ResolvedStep, resolveStep } from "./resolve-step.js";

/** What a rendered command contributes to a job's environment. */
export interface CommandEnv {
  env: Readonly<Record<string, string>>;
  simulated: boolean;
}

/** A job's environment: the cluster's, then the task's, then the simulate marker (secrets apart). */
export function jobEnv(clusterEnv: Readonly<Record<string, string>>, command: CommandEnv): Record<string, string> {
  return { ...clusterEnv, ...command.env, ...(command.simulated ? { GPU_DAG_SIMULATED: "1" } : {}) };
}

/** Names of the secret variables a step's task asks for (`secretEnv` option). */
export function secretNamesOf(options: Readonly<Record<string, unknown>>): string[] {
  return (options["secretEnv"] as string[] | undefined) ?? [];
}

/** What rendering a step needs. */
export interface RenderInput {
  planned: PlannedStep;
  queue: ResolvedQueue;
  scope: ResolutionScope;
  store: Store;
  environment: Pick<ExecutionEnvironment, "env" | "python">;
  runtime: "real" | "simulate" | undefined;
  /** The dry run: what only the run can resolve stays as text (see `AheadOfRun`). */
  ahead?: AheadOfRun;
  /** The attempt directory as the job sees it, for the files it reads (see {@link inputsDirFor}). */
  jobDir?: string;
}

/** A step rendered for an attempt: resolved (placeholders, draft, command) and its job env. */
export interface RenderedAttempt {
  resolved: ResolvedStep;
  env: Record<string, string>;
}

/** Resolves the step and builds its job environment (what the cache key and the spec share). */
export async function renderAttempt(input: RenderInput): Promise<RenderedAttempt> {
  const render = { runtime: input.runtime, python: input.environment.python(input.queue), ...(input.jobDir !== undefined ? { jobDir: input.jobDir } : {}) };
  const resolved = await resolveStep(input.planned, input.scope, input.store, input.queue, render, input.ahead);
  return { resolved, env: jobEnv(input.environment.env, resolved.command) };
}

/** Everything an attempt's job spec is made of. */
export interface AttemptSpecInput {
  runId: string;
  planned: PlannedStep;
  queue: ResolvedQueue;
  attempt: number;
  /** The rendered command (or, resuming, the journaled one). */
  argv: readonly string[];
  /** From {@link jobEnv}. */
  env: Readonly<Record<string, string>>;
  /** Secret values (never journaled); the dry run passes none. */
  secretEnv: Readonly<Record<string, string>>;
  attemptDir: string;
  /** A journaled attempt's job name and queue name, kept as journaled (resume). */
  journaled?: { jobName: string; queue: string };
  /** Files the job reads (from the rendered step's `inputFiles`). */
  inputFiles?: Readonly<Record<string, string>>;
}

/**
 * Where a job of `planned` sees its attempt directory, when the step reads files there (a map's
 * collection, `${gen[*].elements}`); `undefined` when it reads none (no backend call then).
 */
export async function inputsDirFor(backend: QueueBackend, store: Store, runId: string, planned: PlannedStep, attempt: number): Promise<string | undefined> {
  if (!planned.placeholders.some((p) => p.ref.kind === "elements")) return undefined;
  const local = store.attemptPath(runId, planned.spec.name, attempt);
  const probe = { runId, step: planned.spec.name, attempt, attemptDir: local } as JobSpec;
  return (await backend.jobDirFor?.(probe)) ?? local;
}

/** The job spec of one attempt; see the module comment. */
export function attemptSpec(input: AttemptSpecInput): JobSpec {
  const name = input.planned.spec.name;
  const element = input.planned.element;
  return {
    jobName: input.journaled?.jobName ?? jobNameFor(input.runId, name, input.attempt),
    runId: input.runId,
    step: name,
    attempt: input.attempt,
    queue: input.journaled?.queue ?? input.queue.name,
    // The smaller of the step's and the queue's time limit: decided here once, final for backends.
    resources: stepResources(input.queue, input.planned.spec.timeLimit),
    argv: input.argv,
    env: input.env,
    secretEnv: input.secretEnv,
    attemptDir: input.attemptDir,
    priority: input.planned.priority,
    ...(input.inputFiles && Object.keys(input.inputFiles).length > 0 ? { inputFiles: input.inputFiles } : {}),
    ...(element ? { group: { key: `${element.map}/a${input.attempt}`, map: element.map, index: element.index, ...(element.throttle !== undefined ? { throttle: element.throttle } : {}) } } : {}),
  };
}

/** What {@link renderStepAttempt} needs of the run. */
export interface StepAttemptInput {
  runId: string;
  planned: PlannedStep;
  queue: ResolvedQueue;
  attempt: number;
  scope: ResolutionScope;
  store: Store;
  environment: Pick<ExecutionEnvironment, "env" | "python" | "backend">;
  runtime: "real" | "simulate" | undefined;
}

/** Renders attempt `attempt` of a step in a run: {@link renderAttempt} with the job's view of its files. */
export async function renderStepAttempt(input: StepAttemptInput): Promise<RenderedAttempt> {
  const jobDir = await inputsDirFor(input.environment.backend, input.store, input.runId, input.planned, input.attempt);
  const { planned, queue, scope, store, environment, runtime } = input;
  return renderAttempt({ planned, queue, scope, store, environment, runtime, ...(jobDir !== undefined ? { jobDir } : {}) });
}

/**
 * `run --dry-run`: everything `run` checks (pipeline, base tasks, queues against the cluster
 * config), then the plan — order, each step's queue and resources, its rendered argv and, on a
 * Slurm cluster, its batch script. Nothing is submitted and no run is recorded.
 *
 * Placeholders that only a run can resolve (a parent's models, metrics, artifacts, the run id)
 * stay in the rendered command as their `${…}` text; pipeline parameters are filled in.
 *
 * @module
 */
import { join } from "node:path";
import type { CreateRunOptions } from "../api/create-run.js";
import { planRun } from "../api/plan-run.js";
import { shellJoin } from "../args/shell-quote.js";
import { jobNameFor, type JobResources, type JobSpec } from "../backends/queue-backend.js";
import type { ClusterConfig } from "../config/cluster-config.js";
import { stepResources, type ResolvedQueue } from "../config/resolve-queue.js";
import type { PipelineDefinition } from "../pipeline/pipeline-definition.js";
import { findPlaceholders, type Placeholder, substitute } from "../pipeline/placeholders.js";
import type { PlannedStep } from "../pipeline/validate.js";
import { FileStore } from "../store/file-store.js";
import type { Store } from "../store/store.js";
import type { TaskDraft } from "../tasks/task-draft.js";
import { formatDuration } from "./format.js";
import { redactEnv } from "../store/redact.js";
import { sanitizeForTerminal } from "./sanitize.js";

/** The run id shown in dry-run job names and paths. */
export const DRY_RUN_ID = "dry-run";

/** One step of a dry-run plan. */
export interface DryRunStep {
  name: string;
  /** Declared parents plus those implied by placeholders. */
  parents: string[];
  queue: string;
  resources: JobResources;
  /** Slurm partition, when the cluster is Slurm. */
  partition?: string;
  taskType: string;
  /** The draft the step clones (a store id or an inline task key). */
  baseTaskId: string;
  /** The command as the job would run it (placeholders a run resolves left as text). */
  argv: string[];
  /** `argv` as one shell-quoted line. */
  commandLine: string;
  /** Environment of the job; values under secret-looking names shown as "***" (see store/redact.ts). */
  env: Record<string, string>;
  /** Names of secret variables the job gets (values never shown). */
  secretEnv: string[];
  /** Placeholders left unresolved until the step launches. */
  unresolved: string[];
  /** Why part of the command could not be rendered ahead of the run, if so. */
  notes: string[];
  /** The sbatch script (Slurm clusters). */
  batchScript?: string;
}

/** See the module comment. */
export interface DryRunPlan {
  dryRun: true;
  projectName: string;
  pipelineName: string;
  cluster: { name: string; source: string; executor: ClusterConfig["executor"] };
  runtime: "real" | "simulate";
  parameters: Record<string, string | number | boolean>;
  /** Topological order. */
  order: string[];
  steps: DryRunStep[];
}

/** Builds the plan; throws what `run` would throw for an invalid pipeline or config. */
export async function planDryRun(pipeline: PipelineDefinition, options: CreateRunOptions): Promise<DryRunPlan> {
  const store: Store = options.store ?? new FileStore(options.home ? { home: options.home } : {});
  const { plan, cluster: loaded, environment } = await planRun(pipeline, { ...options, store });
  const spec = plan.spec;
  const runtime = options.runtime ?? "real";
  const parameters: Record<string, string | number | boolean> = {};
  for (const [name, declared] of Object.entries(spec.parameters)) if (declared.default !== undefined) parameters[name] = declared.default;
  Object.assign(parameters, options.parameters ?? {});

  const steps: DryRunStep[] = [];
  for (const name of plan.order) {
    const planned = plan.steps.get(name)!;
    const queue = environment.resolveQueue(planned.spec.executionQueue) as ResolvedQueue;
    const rendered = await renderStep(planned, queue, store, {
      parameters,
      runtime,
      python: environment.python(queue),
    });
    const env = { ...environment.env, ...rendered.env };
    const secretEnv = [...new Set([...(loaded.config.requiredEnv ?? []), ...((rendered.task.options as { secretEnv?: string[] }).secretEnv ?? [])])];
    const step: DryRunStep = {
      name,
      parents: planned.parents,
      queue: queue.name,
      resources: stepResources(queue, planned.spec.timeLimit),
      taskType: planned.task.type,
      baseTaskId: planned.spec.baseTaskId,
      argv: rendered.argv,
      commandLine: shellJoin(rendered.argv),
      env: redactEnv(env),
      secretEnv,
      unresolved: rendered.unresolved,
      notes: rendered.notes,
    };
    if (loaded.config.executor === "slurm") {
      const { resolveBatchJob } = await import("../backends/slurm/resolve-job.js");
      const { renderBatchScript } = await import("../backends/slurm/batch-script.js");
      const job: JobSpec = {
        jobName: jobNameFor(DRY_RUN_ID, name, 1),
        runId: DRY_RUN_ID,
        step: name,
        attempt: 1,
        queue: queue.name,
        resources: stepResources(queue, planned.spec.timeLimit),
        argv: rendered.argv,
        env,
        secretEnv: {},
        attemptDir: join(store.runDir(DRY_RUN_ID), "steps", name, "attempt-1"),
        priority: planned.priority,
      };
      const input = resolveBatchJob(loaded.config, job, loaded.config.jobDir);
      if (input.sbatch.partition !== undefined) step.partition = input.sbatch.partition;
      step.batchScript = renderBatchScript(input);
    }
    steps.push(step);
  }
  return {
    dryRun: true,
    projectName: spec.projectName,
    pipelineName: spec.pipelineName,
    cluster: { name: loaded.name, source: loaded.source, executor: loaded.config.executor },
    runtime,
    parameters,
    order: [...plan.order],
    steps,
  };
}

/** Text form of a plan. */
export function formatDryRun(plan: DryRunPlan): string {
  const lines = [
    `dry run of pipeline ${plan.projectName}/${plan.pipelineName} on cluster "${plan.cluster.name}" (${plan.cluster.executor}, ${plan.cluster.source}), runtime ${plan.runtime}: nothing is submitted`,
    `order: ${plan.order.join(" → ")}`,
  ];
  plan.steps.forEach((s, i) => {
    const r = s.resources;
    const resources = [`${r.gpus} GPU${r.gpus === 1 ? "" : "s"}`, `${r.nodes} node${r.nodes === 1 ? "" : "s"}`, r.cpus !== undefined ? `${r.cpus} CPUs` : "", r.mem ? `mem ${r.mem}` : "", r.timeLimitSeconds !== undefined ? `time ${formatDuration(r.timeLimitSeconds * 1000)}` : ""].filter(Boolean).join(", ");
    lines.push("", `${i + 1}. ${s.name}  [${s.taskType}, base ${s.baseTaskId}]`);
    lines.push(`   queue:    ${s.queue}${s.partition ? ` → partition ${s.partition}` : ""} (${resources})`);
    lines.push(`   parents:  ${s.parents.join(", ") || "-"}`);
    lines.push(`   command:  ${s.commandLine}`);
    const env = Object.entries(s.env);
    if (env.length > 0) lines.push(`   env:      ${env.map(([k, v]) => `${k}=${v}`).join(" ")}`);
    if (s.secretEnv.length > 0) lines.push(`   secrets:  ${s.secretEnv.join(", ")} (values not shown)`);
    if (s.unresolved.length > 0) lines.push(`   resolved at launch: ${s.unresolved.join(", ")}`);
    for (const n of s.notes) lines.push(`   note:     ${n}`);
    if (s.batchScript) lines.push("   batch script:", ...s.batchScript.trimEnd().split("\n").map((l) => `     ${l}`));
  });
  return sanitizeForTerminal(lines.join("\n")) + "\n";
}

interface RenderedStep {
  task: TaskDraft;
  argv: string[];
  env: Record<string, string>;
  unresolved: string[];
  notes: string[];
}

async function renderStep(
  planned: PlannedStep,
  queue: ResolvedQueue,
  store: Store,
  context: { parameters: Record<string, string | number | boolean>; runtime: "real" | "simulate"; python: string },
): Promise<RenderedStep> {
  const unresolved: string[] = [];
  const notes: string[] = [];
  const resolve = (p: Placeholder): string | number | boolean => {
    if (p.ref.kind === "pipeline") {
      const value = context.parameters[p.ref.param];
      if (value !== undefined) return value;
    }
    if (!unresolved.includes(p.raw)) unresolved.push(p.raw);
    return p.raw;
  };
  const overrides: Record<string, unknown> = {};
  const literal: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(planned.spec.parameterOverride)) {
    overrides[key] = substitute(value, resolve);
    if (findPlaceholders(value).every((p) => p.ref.kind === "pipeline" && context.parameters[p.ref.param] !== undefined)) literal[key] = overrides[key];
  }
  let task: TaskDraft;
  try {
    task = planned.task.clone(overrides);
  } catch (error) {
    // An option that must be a number cannot hold placeholder text: render without those overrides.
    notes.push(`overrides holding placeholders are shown unapplied (${(error as Error).message})`);
    task = planned.task.clone(literal);
  }
  const options = task.options as Record<string, unknown>;
  let modelPath: string | undefined;
  if (options["modelFromStore"] === true) {
    const id = String(options["modelId"]);
    const model = id.includes("${") || id.includes("$<") ? undefined : await store.getModel(id).catch(() => undefined);
    modelPath = model?.path ?? `<path of store model ${id}>`;
    if (!model) notes.push(`modelId ${id} is resolved to the model's path when the step launches`);
  }
  const runtime = (options["runtime"] as "real" | "simulate" | undefined) ?? context.runtime;
  const python = (options["python"] as string | undefined) ?? context.python;
  const command = task.render({ runtime, python, gpus: queue.resources.gpus, ...(modelPath ? { modelPath } : {}) });
  return {
    task,
    argv: command.argv,
    env: { ...command.env, ...(command.simulated ? { GPU_DAG_SIMULATED: "1" } : {}) },
    unresolved,
    notes,
  };
}



/**
 * `run --dry-run`: everything `run` checks (pipeline, base tasks, queues against the cluster
 * config), then the plan — order, each step's queue and resources, its rendered argv and, on a
 * Slurm cluster, its batch script. Nothing is submitted and no run is recorded.
 *
 * Each step is rendered on the run's own path (`runner/attempt-spec.ts`), so its argv, env,
 * resources and job name are the ones the run's attempt 1 gets. Placeholders that only a run can
 * resolve (a parent's models, metrics, artifacts, parameters, the run id) stay in the rendered
 * command as their `${…}` text; pipeline parameters are filled in.
 *
 * @module
 */
import type { CreateRunOptions } from "../api/create-run.js";
import { planRun } from "../api/plan-run.js";
import { shellJoin } from "../args/shell-quote.js";
import type { JobResources, JobSpec } from "../backends/queue-backend.js";
import type { ClusterConfig } from "../config/cluster-config.js";
import type { ResolvedQueue } from "../config/resolve-queue.js";
import type { PipelineDefinition } from "../pipeline/pipeline-definition.js";
import { attemptSpec, renderAttempt, secretNamesOf } from "../runner/attempt-spec.js";
import type { AheadOfRun, ResolutionScope } from "../runner/resolve-step.js";
import { FileStore } from "../store/file-store.js";
import { redactEnv } from "../store/redact.js";
import type { Store } from "../store/store.js";
import { formatDuration } from "./format.js";
import { sanitizeForTerminal } from "./sanitize.js";

/** The run id shown in dry-run job names and paths. */
export const DRY_RUN_ID = "dry-run";

/** One step of a dry-run plan. */
export interface DryRunStep {
  name: string;
  /** Declared parents plus those implied by placeholders. */
  parents: string[];
  queue: string;
  /** The job name attempt 1 gets (`jobNameFor`, with the dry run's run id). */
  jobName: string;
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
  /** Attempt 1's directory (not created). */
  attemptDir: string;
  /** The sbatch script (Slurm clusters). */
  batchScript?: string;
  /** Set on an element of a map step: its map and label (`gen[seed=0,chunk=1]`). */
  element?: { map: string; label: string };
}

/** A map step of the plan: it runs no job; its elements (steps of `steps`) do. */
export interface DryRunMap {
  name: string;
  /** Element step names, in order (`gen[0]`, …). */
  elements: string[];
  /** Successes it needs (`minSuccess`). */
  required: number;
  maxParallel?: number;
  /** Its items come from a parent (`itemsFrom`): the elements are made when the run gets there. */
  itemsFrom?: string;
  /** Slurm clusters: the job arrays its elements are submitted as (each element's own script is its step's `batchScript`). */
  arrays?: Array<{ jobName: string; throttle?: number; script: string }>;
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
  /** Map steps (their elements are in `steps`). */
  maps: DryRunMap[];
}

/**
 * Builds the plan; throws what `run` would throw for an invalid pipeline or config. Each step's
 * job is built on the run's own path (`runner/attempt-spec.ts`: resolution, env, resources, job
 * name), as attempt 1 of run `options.runId` (default {@link DRY_RUN_ID}); only what the run
 * resolves from its parents' outputs stays as text.
 */
export async function planDryRun(pipeline: PipelineDefinition, options: CreateRunOptions): Promise<DryRunPlan> {
  const store: Store = options.store ?? new FileStore(options.home ? { home: options.home } : {});
  const { plan, cluster: loaded, environment } = await planRun(pipeline, { ...options, store });
  const spec = plan.spec;
  const runtime = options.runtime ?? "real";
  const runId = options.runId ?? DRY_RUN_ID;
  const parameters: Record<string, string | number | boolean> = {};
  for (const [name, declared] of Object.entries(spec.parameters)) if (declared.default !== undefined) parameters[name] = declared.default;
  Object.assign(parameters, options.parameters ?? {});
  // Nothing has run: no step has outputs or resolved options to point at.
  const scope: ResolutionScope = { runId, spec, parameters, outputs: () => undefined, resolvedOptions: () => undefined };

  const steps: DryRunStep[] = [];
  const maps: DryRunMap[] = [];
  /** Slurm: each map's element jobs, rendered together below as its arrays. */
  const elementJobs = new Map<string, JobSpec[]>();
  for (const name of plan.order) {
    const planned = plan.steps.get(name)!;
    if (planned.map) {
      const { elements, required, maxParallel, source } = planned.map;
      maps.push({ name, elements: elements.map((e) => e.key), required, ...(maxParallel !== undefined ? { maxParallel } : {}), ...(source !== undefined ? { itemsFrom: source } : {}) });
      continue;
    }
    const queue = environment.resolveQueue(planned.spec.executionQueue) as ResolvedQueue;
    const ahead: AheadOfRun = { unresolved: [], notes: [] };
    const { resolved, env } = await renderAttempt({ planned, queue, scope, store, environment, runtime, ahead });
    const job = attemptSpec({
      runId,
      planned,
      queue,
      attempt: 1,
      argv: resolved.command.argv,
      env,
      secretEnv: {}, // values never shown; their names are listed below
      attemptDir: store.attemptPath(runId, name, 1),
    });
    const secretEnv = [...new Set([...(loaded.config.requiredEnv ?? []), ...secretNamesOf(resolved.task.options as Record<string, unknown>)])];
    const step: DryRunStep = {
      name,
      parents: planned.parents,
      queue: job.queue,
      jobName: job.jobName,
      resources: job.resources,
      taskType: planned.task.type,
      baseTaskId: planned.spec.baseTaskId,
      argv: [...job.argv],
      commandLine: shellJoin(job.argv),
      env: redactEnv(job.env),
      secretEnv,
      unresolved: ahead.unresolved,
      notes: ahead.notes,
      attemptDir: job.attemptDir,
      ...(planned.element ? { element: { map: planned.element.map, label: planned.element.label } } : {}),
    };
    if (loaded.config.executor === "slurm" && planned.element) {
      elementJobs.set(planned.element.map, [...(elementJobs.get(planned.element.map) ?? []), job]);
    } else if (loaded.config.executor === "slurm") {
      const { resolveBatchJob } = await import("../backends/slurm/resolve-job.js");
      const { renderBatchScript } = await import("../backends/slurm/batch-script.js");
      const input = resolveBatchJob(loaded.config, job, loaded.config.jobDir);
      if (input.sbatch.partition !== undefined) step.partition = input.sbatch.partition;
      step.batchScript = renderBatchScript(input);
    }
    steps.push(step);
  }
  if (loaded.config.executor === "slurm" && elementJobs.size > 0) {
    const { renderSlurmSubmission } = await import("../backends/slurm/render-arrays.js");
    for (const map of maps) {
      const jobs = elementJobs.get(map.name) ?? [];
      const rendered = renderSlurmSubmission(loaded.config, jobs, loaded.config.jobDir);
      map.arrays = rendered.arrays.map((a) => ({ jobName: a.jobName, script: a.script, ...(a.throttle !== undefined ? { throttle: a.throttle } : {}) }));
      const scripts = new Map([...rendered.arrays.flatMap((a) => a.elements), ...rendered.singles].map((e) => [e.jobName, e.script]));
      for (const step of steps) {
        const script = step.element?.map === map.name ? scripts.get(step.jobName) : undefined;
        if (script !== undefined) step.batchScript = script;
      }
    }
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
    maps,
  };
}

/** Text form of a plan. */
export function formatDryRun(plan: DryRunPlan): string {
  const lines = [
    `dry run of pipeline ${plan.projectName}/${plan.pipelineName} on cluster "${plan.cluster.name}" (${plan.cluster.executor}, ${plan.cluster.source}), runtime ${plan.runtime}: nothing is submitted`,
    `order: ${plan.order.join(" → ")}`,
  ];
  for (const m of plan.maps) {
    const cap = m.maxParallel !== undefined ? `, at most ${m.maxParallel} at once` : "";
    if (m.itemsFrom !== undefined) lines.push(`map ${m.name}: one element per item of ${m.itemsFrom}, made once that step has run${cap}`);
    else lines.push(`map ${m.name}: ${m.elements.length} elements (${m.elements.length === m.required ? "all" : `at least ${m.required}`} must succeed${cap}), each a step below`);
    for (const a of m.arrays ?? []) {
      lines.push(
        `  job array ${a.jobName}:`,
        ...a.script
          .trimEnd()
          .split("\n")
          .map((l) => `     ${l}`),
      );
    }
  }
  plan.steps.forEach((s, i) => {
    const r = s.resources;
    const resources = [
      `${r.gpus} GPU${r.gpus === 1 ? "" : "s"}`,
      `${r.nodes} node${r.nodes === 1 ? "" : "s"}`,
      r.cpus !== undefined ? `${r.cpus} CPUs` : "",
      r.mem ? `mem ${r.mem}` : "",
      r.timeLimitSeconds !== undefined ? `time ${formatDuration(r.timeLimitSeconds * 1000)}` : "",
    ]
      .filter(Boolean)
      .join(", ");
    lines.push("", `${i + 1}. ${s.element ? `${s.name} = ${s.element.label}` : s.name}  [${s.taskType}, base ${s.baseTaskId}]`);
    lines.push(`   queue:    ${s.queue}${s.partition ? ` → partition ${s.partition}` : ""} (${resources})`);
    lines.push(`   job:      ${s.jobName}`);
    lines.push(`   parents:  ${s.parents.join(", ") || "-"}`);
    lines.push(`   command:  ${s.commandLine}`);
    const env = Object.entries(s.env);
    if (env.length > 0) lines.push(`   env:      ${env.map(([k, v]) => `${k}=${v}`).join(" ")}`);
    if (s.secretEnv.length > 0) lines.push(`   secrets:  ${s.secretEnv.join(", ")} (values not shown)`);
    if (s.unresolved.length > 0) lines.push(`   resolved at launch: ${s.unresolved.join(", ")}`);
    for (const n of s.notes) lines.push(`   note:     ${n}`);
    if (s.batchScript)
      lines.push(
        "   batch script:",
        ...s.batchScript
          .trimEnd()
          .split("\n")
          .map((l) => `     ${l}`),
      );
  });
  return sanitizeForTerminal(lines.join("\n")) + "\n";
}

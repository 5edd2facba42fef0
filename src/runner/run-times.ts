/**
 * Scheduling with what earlier runs measured. Each step has a run-time key: its task (type and
 * options), its `parameterOverride` as written (placeholders as text), its map element's item and
 * its queue — "the same step" across runs, whatever its parents produced this time. After a run,
 * the run time of every step that ran and succeeded is recorded under its key
 * ({@link recordRunTimes}); before a run, when the store has run times of any of its steps,
 * each step's priority becomes the estimated work left on the longest path from it to the end —
 * its own estimate (the median of its recorded times; the mean of the known steps' estimates for
 * one never measured, none for a map step, which runs no job) plus the largest of its children's
 * ({@link applyRunTimePriorities}). Without any history the priority stays the planner's: the
 * longest remaining path counted in steps.
 *
 * A longest-remaining-work priority (critical-path list scheduling) starts the steps that hold up
 * the end first; counted in steps it treats a 5 s step like a 5 h one.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { PipelinePlan, PlannedStep } from "../pipeline/validate.js";
import type { Store } from "../store/store.js";
import type { RunResult } from "./run-types.js";
import { type Candidate, candidatePriorities, chooseSchedule, type ScheduleStep } from "./schedule-choice.js";

/** The run-time key of a planned step; see the module comment. */
export function runTimeKey(planned: PlannedStep): string {
  const identity = {
    task: planned.task.type,
    options: planned.task.options,
    parameters: planned.spec.parameterOverride,
    item: planned.element?.item,
    queue: planned.spec.executionQueue,
  };
  return createHash("sha256").update(stableJson(identity)).digest("hex").slice(0, 32);
}

/** What {@link applyRunTimePriorities} knows of where the run runs. */
export interface ScheduleContext {
  /** GPUs each job of `planned` asks for. */
  gpusOf(planned: PlannedStep): number;
  /** GPUs in the pool the jobs share (the local backend's); unknown elsewhere (then `work`). */
  poolGpus?: number | undefined;
}

/**
 * Sets each planned step's `priority` from estimated run times when `store` has times of any
 * step of `plan` (otherwise leaves the plan as it is): the candidate rule of schedule-choice.ts
 * with the shortest simulated makespan on `context.poolGpus` GPUs (the longest remaining work
 * where the pool is unknown). Returns how many steps had a recorded time (0: the planner's
 * priorities stand) and the rule used.
 */
export async function applyRunTimePriorities(plan: PipelinePlan, store: Store, context?: ScheduleContext): Promise<{ known: number; rule?: Candidate }> {
  if (!store.getRunTimes) return { known: 0 };
  const keys = new Map<string, string>();
  for (const [name, planned] of plan.steps) if (!planned.map) keys.set(name, runTimeKey(planned));
  const history = await store.getRunTimes([...new Set(keys.values())]).catch(() => undefined);
  if (!history || history.size === 0) return { known: 0 };
  const known = new Map<string, number>();
  for (const [name, key] of keys) {
    const samples = history.get(key);
    if (samples && samples.length > 0) known.set(name, median(samples));
  }
  if (known.size === 0) return { known: 0 };
  const fallback = [...known.values()].reduce((a, b) => a + b, 0) / known.size;
  const names = new Set(plan.steps.keys());
  const steps: ScheduleStep[] = [...plan.steps].map(([name, planned]) => ({
    name,
    ms: planned.map ? 0 : (known.get(name) ?? fallback),
    gpus: planned.map ? 0 : (context?.gpusOf(planned) ?? 0),
    children: planned.children,
    parents: planned.parents.filter((p) => names.has(p)).length,
  }));
  const chosen = context?.poolGpus ? chooseSchedule(steps, plan.order, context.poolGpus) : { candidate: "work" as const, priority: candidatePriorities(steps, plan.order, "work", 0) };
  for (const [name, planned] of plan.steps) planned.priority = Math.max(1, Math.round(chosen.priority.get(name)!));
  return { known: known.size, rule: chosen.candidate };
}

/** Records the run times of the steps of `result` that ran and succeeded (not cached ones). */
export async function recordRunTimes(store: Store, plan: PipelinePlan, result: RunResult): Promise<void> {
  if (!store.recordRunTimes) return;
  const times = new Map<string, number>();
  for (const [name, step] of Object.entries(result.steps)) {
    const planned = plan.steps.get(name);
    if (!planned || planned.map || step.status !== "succeeded" || step.durationMs === undefined) continue;
    times.set(runTimeKey(planned), step.durationMs);
  }
  if (times.size > 0) await store.recordRunTimes(times);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** JSON with object keys sorted, so equal values give equal keys. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

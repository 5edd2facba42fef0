/**
 * Choosing the priorities of a run whose steps' durations are estimated (run-times.ts). No one
 * list-scheduling priority is best for every DAG: on a GPU-bound DAG the longest remaining work
 * can lose to a count of steps, and the other way round (bench/README.md, "Makespan"). With the
 * durations known, the candidates are compared on the run itself: each is replayed through a
 * zero-overhead simulation of the local GPU pool's policy (waiting jobs by priority, then larger
 * GPU demand, then arrival; any that fits starts: backfill; at most `slots` at once), and the one
 * with the shortest simulated makespan is used. Ties keep the earlier candidate (step counts
 * first: the planner's own order unless another does better).
 *
 * @module
 */

/** One step of the schedule to choose for. */
export interface ScheduleStep {
  name: string;
  /** Estimated run time, ms (0 for a step that runs no job). */
  ms: number;
  gpus: number;
  children: readonly string[];
  /** Parents among the schedule's steps. */
  parents: number;
}

/** The candidates, in tie-break order. */
export const CANDIDATES = ["steps", "work", "gpu-work", "work+area"] as const;
/** A candidate priority rule. */
export type Candidate = (typeof CANDIDATES)[number];

/** Largest schedule compared by simulation (each costs O(n² log n)); larger ones take "work". */
export const MAX_SIMULATED_STEPS = 2000;

/**
 * Priorities per step for `candidate`, higher first: the remaining path from the step to the end
 * counted in steps (`steps`), in estimated ms (`work`), in GPU-ms (`gpu-work`), or in ms plus the
 * step's own GPU area spread over the pool (`work+area`).
 */
export function candidatePriorities(steps: readonly ScheduleStep[], order: readonly string[], candidate: Candidate, poolGpus: number): Map<string, number> {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const weight = (s: ScheduleStep) => (candidate === "steps" ? 1 : candidate === "gpu-work" ? s.ms * Math.max(1, s.gpus) : s.ms);
  const remaining = new Map<string, number>();
  for (let i = order.length - 1; i >= 0; i--) {
    const s = byName.get(order[i]!)!;
    let longest = 0;
    for (const c of s.children) longest = Math.max(longest, remaining.get(c) ?? 0);
    remaining.set(s.name, longest + weight(s));
  }
  if (candidate !== "work+area") return remaining;
  return new Map(steps.map((s) => [s.name, remaining.get(s.name)! + (s.ms * s.gpus) / Math.max(1, poolGpus)]));
}

/** The simulated makespan (ms) of `steps` under `priority` on `poolGpus` GPUs and `slots` job slots. */
export function simulateMakespan(steps: readonly ScheduleStep[], priority: ReadonlyMap<string, number>, poolGpus: number, slots = Number.POSITIVE_INFINITY): number {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const waitingParents = new Map(steps.map((s) => [s.name, s.parents]));
  let free = poolGpus;
  let seq = 0;
  let now = 0;
  let done = 0;
  const waiting: Array<{ step: ScheduleStep; priority: number; seq: number }> = [];
  const running: Array<{ end: number; step: ScheduleStep }> = [];
  const arrive = (s: ScheduleStep) => waiting.push({ step: s, priority: priority.get(s.name) ?? 0, seq: seq++ });
  for (const s of steps) if (s.parents === 0) arrive(s);
  while (done < steps.length) {
    waiting.sort((a, b) => b.priority - a.priority || b.step.gpus - a.step.gpus || a.seq - b.seq);
    for (let i = 0; i < waiting.length && running.length < slots; ) {
      const w = waiting[i]!;
      if (w.step.gpus <= free) {
        free -= w.step.gpus;
        running.push({ end: now + w.step.ms, step: w.step });
        waiting.splice(i, 1);
      } else i++;
    }
    if (running.length === 0) return Number.POSITIVE_INFINITY; // a step asks more than the pool has
    running.sort((a, b) => a.end - b.end);
    now = running[0]!.end;
    while (running.length > 0 && running[0]!.end === now) {
      const { step } = running.shift()!;
      free += step.gpus;
      done += 1;
      for (const c of step.children) {
        const child = byName.get(c);
        if (!child) continue;
        const left = waitingParents.get(c)! - 1;
        waitingParents.set(c, left);
        if (left === 0) arrive(child);
      }
    }
  }
  return now;
}

/** The candidate with the shortest simulated makespan, and its priorities; see the module comment. */
export function chooseSchedule(
  steps: readonly ScheduleStep[],
  order: readonly string[],
  poolGpus: number,
  slots?: number,
): { candidate: Candidate; priority: Map<string, number>; makespanMs: number } {
  if (steps.length > MAX_SIMULATED_STEPS || poolGpus <= 0) return { candidate: "work", priority: candidatePriorities(steps, order, "work", poolGpus), makespanMs: Number.NaN };
  let best: { candidate: Candidate; priority: Map<string, number>; makespanMs: number } | undefined;
  for (const candidate of CANDIDATES) {
    const priority = candidatePriorities(steps, order, candidate, poolGpus);
    const makespanMs = simulateMakespan(steps, priority, poolGpus, slots);
    if (!best || makespanMs < best.makespanMs) best = { candidate, priority, makespanMs };
  }
  return best!;
}

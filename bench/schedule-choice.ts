/**
 * Benchmark (no processes, a simulation only): the priority rule gpu-dag picks with run-time
 * history (`chooseSchedule`, src/runner/schedule-choice.ts) on the seeded random DAGs of
 * bench/makespan.ts, with exact durations, against the planner's step counts; both ÷ the lower
 * bound max(critical path, GPU-seconds ÷ 8). Also how long the choice takes.
 *
 *   npx tsx bench/schedule-choice.ts [--sizes 200,1000] [--seeds 1,2,3]
 *
 * @module
 */
import { candidatePriorities, chooseSchedule, type ScheduleStep, simulateMakespan } from "../src/runner/schedule-choice.js";
import { markdownTable, round, strArg } from "./lib/common.js";
import { lowerBound, randomDag } from "./lib/dag.js";

const rows: Array<Record<string, unknown>> = [];
for (const size of strArg("sizes", "200,1000").split(",").map(Number)) {
  for (const seed of strArg("seeds", "1,2,3").split(",").map(Number)) {
    const dag = randomDag(size, seed);
    const kids = new Map<string, string[]>(dag.map((s) => [s.name, []]));
    for (const s of dag) for (const p of s.parents) kids.get(p)!.push(s.name);
    const steps: ScheduleStep[] = dag.map((s) => ({ name: s.name, ms: s.ms, gpus: s.gpus, children: kids.get(s.name)!, parents: s.parents.length }));
    const order = dag.map((s) => s.name);
    const bound = lowerBound(dag, 8).lowerBoundMs;
    const t = performance.now();
    const chosen = chooseSchedule(steps, order, 8);
    const ms = performance.now() - t;
    const bySteps = simulateMakespan(steps, candidatePriorities(steps, order, "steps", 8), 8);
    rows.push({ steps: size, seed, "step counts ÷ bound": round(bySteps / bound, 3), chosen: chosen.candidate, "chosen ÷ bound": round(chosen.makespanMs / bound, 3), "choice took ms": round(ms, 1) });
  }
}
console.log(markdownTable(rows));

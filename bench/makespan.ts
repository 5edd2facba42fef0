/**
 * Benchmark: makespan efficiency. Seeded random DAGs (each step: 0–3 earlier parents, sleeps
 * 50–500 ms, asks 1–4 of 8 fake GPUs); makespan (first step start → last step end) ÷ lower bound
 * max(critical path, total GPU-seconds ÷ 8). Contenders on the same DAG, interleaved per repeat:
 * gpu-dag (its own policy, plus the other priority policies on the 200-step DAG), snakemake
 * (`--cores 8 --resources gpu=8 --scheduler greedy`, when installed) and `make -j8` (which cannot
 * express GPUs: with 8 jobs of 1–4 GPUs it over-subscribes the 8 GPUs, so it is not a valid
 * schedule; shown for its runtime overhead only). A zero-overhead discrete-event simulation of
 * each policy separates scheduling quality from runtime overhead.
 *
 * gpu-dag runs twice over: without history (priority = remaining path in steps) and with run-time
 * history (a store home kept across runs, one unmeasured run first to record the steps' times;
 * priorities chosen by simulated makespan among a few rules, src/runner/schedule-choice.ts).
 *
 *   npx tsx bench/makespan.ts [--sizes 200,1000] [--seeds 1,2,3] [--seeds-large 1] [--repeats 1] [--repeats-large 1] [--all-policies]
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chooseSchedule, type ScheduleStep } from "../src/runner/schedule-choice.js";
import { flag, machine, markdownTable, median, numArg, round, snakemakeCommand, stampCommand, strArg, writeResults } from "./lib/common.js";
import { type ContenderRun, type DagStep, lowerBound, POLICIES, randomDag, runGpuDag, runMake, runSnakemake, simulate } from "./lib/dag.js";

const sizes = strArg("sizes", "200,1000").split(",").map(Number);
const repeats = numArg("repeats", 1);
const repeatsLarge = numArg("repeats-large", 1);
const seeds = strArg("seeds", "1,2,3").split(",").map(Number);
const seedsLarge = strArg("seeds-large", "1").split(",").map(Number);
const GPUS = 8;
const withSnakemake = !process.argv.includes("--no-snakemake") && snakemakeCommand() !== undefined;
const stamp = stampCommand();

/** Peak GPUs in use at once, from the stamps (make ignores GPU demands). */
function peakGpus(dag: readonly DagStep[], run: ContenderRun): number {
  const events = dag.flatMap((s) => [
    { t: run.stamps.get(s.name)!.start, d: s.gpus },
    { t: run.stamps.get(s.name)!.end, d: -s.gpus },
  ]);
  events.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let peak = 0;
  for (const e of events) peak = Math.max(peak, (now += e.d));
  return peak;
}

const allRows: Array<Record<string, unknown>> = [];
const simRows: Array<Record<string, unknown>> = [];
const raw: Record<string, unknown> = {};
const pairs = sizes.flatMap((size) => (size > 200 ? seedsLarge : seeds).map((seed) => [size, seed] as const));
for (const [size, seed] of pairs) {
  const dag = randomDag(size, seed);
  const bound = lowerBound(dag, GPUS);
  const large = size > 200;
  // The history contender's store: one unmeasured run records every step's time first.
  const historyHome = mkdtempSync(join(tmpdir(), "gd-bench-history-"));
  await runGpuDag(dag, stamp.argv, { gpus: GPUS, home: historyHome });
  const contenders: Array<[string, () => Promise<ContenderRun>]> = [
    ["gpu-dag (no history: steps)", () => runGpuDag(dag, stamp.argv, { gpus: GPUS })],
    ["gpu-dag (run-time history)", () => runGpuDag(dag, stamp.argv, { gpus: GPUS, home: historyHome })],
  ];
  if (!large && flag("all-policies")) {
    for (const policy of POLICIES.filter((p) => p !== "longest-path" && p !== "longest-work")) {
      contenders.push([`gpu-dag (${policy})`, () => runGpuDag(dag, stamp.argv, { gpus: GPUS, policy })]);
    }
  }
  if (withSnakemake) contenders.push(["snakemake", () => runSnakemake(dag, stamp.argv, GPUS, GPUS)]);
  contenders.push(["make -j8 (ignores GPUs)", () => runMake(dag, stamp.argv, GPUS)]);

  const n = large ? repeatsLarge : repeats;
  const runs = new Map<string, Array<{ makespanMs: number; wallMs: number; peak: number }>>(contenders.map(([c]) => [c, []]));
  for (let r = 0; r < n; r++) {
    const order = contenders.map((_, i) => contenders[(i + r) % contenders.length]!);
    for (const [name, fn] of order) {
      const run = await fn();
      runs.get(name)!.push({ makespanMs: run.makespanMs, wallMs: run.wallMs, peak: peakGpus(dag, run) });
      process.stderr.write(`${size} steps seed ${seed}, repeat ${r + 1}/${n}: ${name} ${(run.makespanMs / 1000).toFixed(2)} s\n`);
    }
  }
  rmSync(historyHome, { recursive: true, force: true });
  // What gpu-dag with history does before its run (src/runner/schedule-choice.ts), on exact durations.
  const kids = new Map<string, string[]>(dag.map((s) => [s.name, []]));
  for (const s of dag) for (const p of s.parents) kids.get(p)!.push(s.name);
  const scheduleSteps: ScheduleStep[] = dag.map((s) => ({ name: s.name, ms: s.ms, gpus: s.gpus, children: kids.get(s.name)!, parents: s.parents.length }));
  const chosen = chooseSchedule(
    scheduleSteps,
    dag.map((s) => s.name),
    GPUS,
  );
  for (const [name] of contenders) {
    const ms = median(runs.get(name)!.map((x) => x.makespanMs));
    // Each gpu-dag contender against a zero-overhead simulation of the policy it ran.
    const simOwn = name.includes("history") ? chosen.makespanMs : simulate(dag, GPUS, "longest-path");
    allRows.push({
      steps: size,
      seed,
      contender: name,
      "makespan s": round(ms / 1000, 2),
      "÷ lower bound": round(ms / bound.lowerBoundMs, 3),
      "÷ own simulation": round(ms / simOwn, 3),
      "wall s (incl. start-up)": round(median(runs.get(name)!.map((x) => x.wallMs)) / 1000, 2),
      "peak GPUs in use": Math.max(...runs.get(name)!.map((x) => x.peak)),
      runs: runs.get(name)!.length,
    });
  }
  for (const policy of POLICIES) {
    const sim = simulate(dag, GPUS, policy);
    simRows.push({ steps: size, seed, policy, "simulated makespan s": round(sim / 1000, 2), "÷ lower bound": round(sim / bound.lowerBoundMs, 3) });
  }
  simRows.push({
    steps: size,
    seed,
    policy: `chosen by simulation (${chosen.candidate}): gpu-dag with history`,
    "simulated makespan s": round(chosen.makespanMs / 1000, 2),
    "÷ lower bound": round(chosen.makespanMs / bound.lowerBoundMs, 3),
  });
  raw[`${size}-seed${seed}`] = { bound, runs: Object.fromEntries(runs), chosen: chosen.candidate };
  console.error(`${size} steps: critical path ${(bound.criticalPathMs / 1000).toFixed(2)} s, GPU bound ${(bound.gpuBoundMs / 1000).toFixed(2)} s`);
}

const targets: Record<string, boolean> = {};
for (const row of allRows.filter((r) => r["contender"] === "gpu-dag (run-time history)")) {
  targets[`${row["steps"]} steps seed ${row["seed"]} (history) ≤ 1.04 × lower bound`] = (row["÷ lower bound"] as number) <= 1.04;
}
const file = writeResults("makespan", { params: { sizes, repeats, repeatsLarge, seeds, seedsLarge, gpus: GPUS, stamp: stamp.kind }, rows: allRows, simulation: simRows, targets, raw });
console.log(`\n## Makespan: seeded random DAGs, ${GPUS} fake GPUs, medians (${machine().nproc} cores)\n`);
console.log(markdownTable(allRows));
console.log(`\n### Zero-overhead simulation of each priority policy\n`);
console.log(markdownTable(simRows));
console.log(
  `\ntargets: ${Object.entries(targets)
    .map(([k, v]) => `${k}: ${v ? "met" : "MISSED"}`)
    .join("; ")}`,
);
console.log(`results: ${file}`);

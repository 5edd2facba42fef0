/**
 * Benchmark: dispatch latency on the local backend. A chain of N instant steps (`stamp`, a static
 * C helper recording its start and end); for every edge, child process start − parent process end.
 * Contenders, interleaved in each repeat: a plain serial `sh` script (the floor), `make -j8`,
 * gpu-dag through `executeLocally()` (in this process) and through its CLI (`gpu-dag run
 * pipeline.yaml`, a process of its own, as a user runs it), and snakemake when installed (see
 * `snakemakeCommand()`). Also start-up: launch → first step's start.
 *
 *   npx tsx bench/dispatch-latency.ts [--steps 200] [--repeats 5] [--no-snakemake]
 *
 * @module
 */
import { runGpuDagCli } from "./lib/cli-contender.js";
import { flag, machine, markdownTable, median, numArg, quantile, round, snakemakeCommand, stampCommand, writeResults } from "./lib/common.js";
import { type ContenderRun, chainDag, edgeLatencies, runGpuDag, runMake, runShellSerial, runSnakemake } from "./lib/dag.js";

const steps = numArg("steps", 200);
const repeats = numArg("repeats", 5);
const withSnakemake = !flag("no-snakemake") && snakemakeCommand() !== undefined;
const stamp = stampCommand();
const dag = chainDag(steps);

type Name = "shell loop (floor)" | "make -j8" | "gpu-dag" | "gpu-dag (direct fork)" | "gpu-dag CLI" | "snakemake";
const contenders: Array<[Name, () => Promise<ContenderRun>]> = [
  ["shell loop (floor)", () => runShellSerial(dag, stamp.argv)],
  ["make -j8", () => runMake(dag, stamp.argv, 8)],
  [
    "gpu-dag",
    async () => {
      const run = await runGpuDag(dag, stamp.argv, { gpus: 8 });
      breakdown(run);
      return run;
    },
  ],
  [
    // The same, with the controller forking each job itself (as before the spawner).
    "gpu-dag (direct fork)",
    async () => {
      process.env["GPU_DAG_SPAWNER"] = "direct";
      try {
        return await runGpuDag(dag, stamp.argv, { gpus: 8 });
      } finally {
        delete process.env["GPU_DAG_SPAWNER"];
      }
    },
  ],
  ["gpu-dag CLI", () => runGpuDagCli(dag, stamp.argv)],
];
if (withSnakemake) contenders.push(["snakemake", () => runSnakemake(dag, stamp.argv, 8, 8)]);

interface Sample {
  p50: number;
  p99: number;
  max: number;
  startupMs: number;
  wallMs: number;
}
const samples = new Map<Name, Sample[]>(contenders.map(([n]) => [n, []]));
/** gpu-dag's parent-exit → child-start path split at its journal timestamps (ms resolution), per edge. */
const phases = {
  "exit seen (parent end → attempt-finished)": [] as number[],
  "prepare (→ child attempt-planned)": [] as number[],
  "fsync + submit (→ job-submitted)": [] as number[],
  "spawn + exec (→ child start)": [] as number[],
};
function breakdown(run: { journal: Array<{ type: string; step?: string; at: number }>; stamps: Map<string, { start: number; end: number }> }): void {
  const at = (type: string, step: string) => run.journal.find((e) => e.type === type && e.step === step)?.at ?? NaN;
  for (const s of dag) {
    for (const p of s.parents) {
      const end = run.stamps.get(p)!.end;
      const finished = at("attempt-finished", p);
      const planned = at("attempt-planned", s.name);
      const submitted = at("job-submitted", s.name);
      phases["exit seen (parent end → attempt-finished)"].push(finished - end);
      phases["prepare (→ child attempt-planned)"].push(planned - finished);
      phases["fsync + submit (→ job-submitted)"].push(submitted - planned);
      phases["spawn + exec (→ child start)"].push(run.stamps.get(s.name)!.start - submitted);
    }
  }
}

// Warm-up (page cache, JIT) outside the measurement.
await runGpuDag(chainDag(20), stamp.argv, { gpus: 8 });
for (let r = 0; r < repeats; r++) {
  // Rotate the order each repeat so no contender always runs first after a quiet spell.
  const order = contenders.map((_, i) => contenders[(i + r) % contenders.length]!);
  for (const [name, fn] of order) {
    const run = await fn();
    const lat = edgeLatencies(dag, run.stamps);
    samples.get(name)!.push({ p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), max: Math.max(...lat), startupMs: run.startupMs, wallMs: run.wallMs });
  }
  process.stderr.write(`repeat ${r + 1}/${repeats} done\n`);
}

const med = (name: Name, key: keyof Sample) => median(samples.get(name)!.map((s) => s[key]));
const floorP50 = med("shell loop (floor)", "p50");
const floorP99 = med("shell loop (floor)", "p99");
// Overhead per repeat (paired: same repeat, same conditions), then the median.
const overhead = (name: Name, key: "p50" | "p99") => {
  const floor = samples.get("shell loop (floor)")!;
  return median(samples.get(name)!.map((s, i) => s[key] - floor[i]![key]));
};
const rows = contenders.map(([name]) => ({
  contender: name,
  "p50 ms": round(med(name, "p50"), 3),
  "p99 ms": round(med(name, "p99"), 3),
  "overhead p50 ms": round(overhead(name, "p50"), 3),
  "overhead p99 ms": round(overhead(name, "p99"), 3),
  "p50 ÷ floor": round(med(name, "p50") / floorP50, 2),
  "start-up ms": round(med(name, "startupMs"), 1),
  "wall s": round(med(name, "wallMs") / 1000, 2),
}));

const targets = {
  "executeLocally overhead p50 ≤ 1 ms": overhead("gpu-dag", "p50") <= 1,
  "executeLocally overhead p99 ≤ 5 ms": overhead("gpu-dag", "p99") <= 5,
  "CLI overhead p50 ≤ 1 ms": overhead("gpu-dag CLI", "p50") <= 1,
  "CLI overhead p99 ≤ 5 ms": overhead("gpu-dag CLI", "p99") <= 5,
  "start-up ≤ 300 ms": med("gpu-dag", "startupMs") <= 300,
};
const phaseRows = Object.entries(phases).map(([phase, v]) => ({ "gpu-dag phase": phase, "p50 ms": round(quantile(v, 0.5), 1), "p99 ms": round(quantile(v, 0.99), 1) }));
const file = writeResults("dispatch-latency", {
  phases: phaseRows,
  params: { steps, repeats, stamp: stamp.kind, floorP99, spawner: process.env["GPU_DAG_SPAWNER"] ?? "default" },
  rows,
  targets,
  samples: Object.fromEntries(samples),
});
console.log(`\n## Dispatch latency: chain of ${steps} steps, medians of ${repeats} interleaved repeats (${machine().nproc} cores)\n`);
console.log(markdownTable(rows));
console.log("\n" + markdownTable(phaseRows));
console.log(
  `\ngpu-dag targets: ${Object.entries(targets)
    .map(([k, v]) => `${k}: ${v ? "met" : "MISSED"}`)
    .join("; ")}`,
);
console.log(`start-up: gpu-dag from new Pipeline() (in-process, ${steps} addStep calls included) to the first step's start; others from spawn.`);
console.log(`results: ${file}`);

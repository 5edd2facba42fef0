/**
 * Benchmark: scale. A 10,000-step pipeline (seeded random DAG, 0–3 earlier parents per step,
 * each step an instant `stamp` with its own parameter override, no GPUs):
 * - build (`new Pipeline` + 10,000 `addStep`) and validate + plan (`pipeline.plan()`) times;
 * - a full run of all steps on the local backend (`maxParallel` 8) in a fresh child process that
 *   builds the pipeline once and runs it (the controller as a user runs it), with its CPU time
 *   (`process.cpuUsage()`: that process, all its threads, not the jobs) per step and its peak RSS
 *   (`process.resourceUsage().maxRSS`: the whole process, tsx loader and build included).
 *
 * - build + validate + plan of a 100,000-step DAG of the same kind (`--large-steps`);
 * - the full run twice, side by side: jobs started by the spawner (the default) and forked by the
 *   controller itself (`GPU_DAG_SPAWNER=direct`), each in its own child process.
 *
 *   npx tsx bench/scale.ts [--steps 10000] [--large-steps 100000] [--plan-repeats 5] [--no-run] [--spawner-only] [--compiled]
 *
 * `--compiled` runs the controller child from tsc's output (bench/.build/js, built first with
 * `npx tsc -p tsconfig.json --noEmit false --outDir bench/.build/js`): no tsx loader (~45 MB of
 * RSS and its own thread) in the measured process, as an installed `gpu-dag` runs.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pipeline } from "../src/api/pipeline.js";
import { builtinLocalConfig } from "../src/config/cluster-config.js";
import { resolveQueue } from "../src/config/resolve-queue.js";
import { FileStore } from "../src/store/file-store.js";
import { Task } from "../src/tasks/custom-task.js";
import { BUILD_DIR, flag, machine, markdownTable, median, numArg, round, stampCommand, writeResults } from "./lib/common.js";
import { randomDag } from "./lib/dag.js";

const steps = numArg("steps", 10_000);
/** This benchmark compiled by `npx tsc -p tsconfig.json --noEmit false --outDir bench/.build/js` (for --compiled). */
function compiledScale(): string {
  const file = join(BUILD_DIR, "js/bench/scale.js");
  if (!existsSync(file)) throw new Error(`--compiled needs ${file}: run npx tsc -p tsconfig.json --noEmit false --outDir bench/.build/js`);
  return file;
}
const runChild = flag("run-child");
const planRepeats = numArg("plan-repeats", 5);
const stamp = stampCommand();
const dag = randomDag(steps, numArg("seed", 1), { minMs: 0, maxMs: 0, maxGpus: 0 });
const dir = mkdtempSync(join(tmpdir(), "gd-bench-scale-"));
const out = join(dir, "out");
mkdirSync(out);
const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;

try {
  const store = new FileStore({ home: join(dir, "home") });
  const task = new Task({ projectName: "bench", taskName: "stamp", command: [...stamp.argv, "{out}"], parameters: { out: "x" } });
  await task.createTask({ store });
  const build = () => {
    const pipeline = new Pipeline({ projectName: "bench", pipelineName: "scale" });
    for (const s of dag) pipeline.addStep({ name: s.name, baseTaskId: task.id!, parents: s.parents, executionQueue: "cpu", parameterOverride: { out: join(out, s.name) } });
    return pipeline;
  };
  const config = builtinLocalConfig();
  const context = {
    loadTask: async () => task,
    checkQueue: (queue: string) => {
      const resolved = resolveQueue(config, queue);
      return "error" in resolved ? resolved.error : undefined;
    },
  };
  if (runChild) {
    // The controller as a user runs it: a fresh process that builds the pipeline once and runs it.
    const pipeline = build();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await pipeline.executeLocally({ store, cluster: { executor: "local", gpus: 8, maxParallel: 8 } });
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await store.close();
    if (result.status !== "succeeded") throw new Error(`run ${result.status}`);
    const report = {
      wallMs,
      userMs: cpu.user / 1000,
      systemMs: cpu.system / 1000,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      rssBeforeMb,
      heapUsedAfterMb: process.memoryUsage().heapUsed / 2 ** 20,
    };
    console.log(`RUN-REPORT ${JSON.stringify(report)}`);
    process.exit(0);
  }
  // 100,000 steps: build + validate + plan once warm (a second build of the same size), in-process.
  const largeSteps = numArg("large-steps", 100_000);
  const largeDag = randomDag(largeSteps, numArg("seed", 1), { minMs: 0, maxMs: 0, maxGpus: 0 });
  const buildLarge = () => {
    const pipeline = new Pipeline({ projectName: "bench", pipelineName: "scale-large" });
    for (const s of largeDag) pipeline.addStep({ name: s.name, baseTaskId: task.id!, parents: s.parents, executionQueue: "cpu", parameterOverride: { out: join(out, s.name) } });
    return pipeline;
  };
  let largeMs = Number.NaN;
  for (let r = 0; r < 2; r++) {
    const t = performance.now();
    await buildLarge().plan(context);
    largeMs = performance.now() - t; // the second (warm) one is kept
  }
  const buildMs: number[] = [];
  const planMs: number[] = [];
  let pipeline = build();
  for (let r = 0; r < planRepeats; r++) {
    let t = performance.now();
    pipeline = build();
    buildMs.push(performance.now() - t);
    t = performance.now();
    await pipeline.plan(context);
    planMs.push(performance.now() - t);
  }
  const rows: Array<Record<string, unknown>> = [
    { measure: `build (${steps} addStep)`, value: `${round(median(buildMs))} ms`, target: "" },
    { measure: "validate + plan", value: `${round(median(planMs))} ms`, target: "" },
    { measure: "build + validate + plan", value: `${round(median(buildMs) + median(planMs))} ms`, target: "≤ 500 ms" },
    { measure: `build + validate + plan, ${largeSteps} steps`, value: `${round(largeMs)} ms`, target: "≤ 3 s" },
  ];
  const targets: Record<string, boolean> = {
    "build + validate + plan ≤ 500 ms": median(buildMs) + median(planMs) <= 500,
    [`${largeSteps} steps build + validate + plan ≤ 3 s`]: largeMs <= 3000,
  };
  const runs: Record<string, Record<string, number>> = {};
  if (!flag("no-run")) {
    // Side by side: the spawner (default) and direct forks, alternating which goes first.
    // --compiled adds the spawner run from tsc's output (no tsx loader in the controller, as an installed CLI runs).
    const modes = [...(flag("compiled") ? ["compiled"] : []), "spawner", ...(flag("spawner-only") ? [] : ["direct"])];
    for (const mode of modes) {
      const entry = mode === "compiled" ? [compiledScale()] : ["--import", "tsx", import.meta.filename];
      const child = spawnSync(process.execPath, [...entry, "--run-child", "--steps", String(steps), "--seed", String(numArg("seed", 1))], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, GPU_DAG_SPAWNER: mode === "compiled" ? "spawner" : mode },
      });
      const line = child.stdout.split("\n").find((l) => l.startsWith("RUN-REPORT "));
      if (child.status !== 0 || !line) throw new Error(`run child failed (exit ${child.status}): ${child.stdout.slice(-2000)}`);
      const run = JSON.parse(line.slice("RUN-REPORT ".length)) as Record<string, number>;
      const cpuMsPerStep = (run["userMs"]! + run["systemMs"]!) / steps;
      run["cpuMsPerStep"] = cpuMsPerStep;
      runs[mode] = run;
      const label = mode === "spawner" ? "" : mode === "compiled" ? " (compiled, no tsx)" : " (direct fork)";
      rows.push(
        { measure: `full run wall${label}`, value: `${round(run["wallMs"]! / 1000, 1)} s (${round(run["wallMs"]! / steps, 2)} ms/step)`, target: "" },
        {
          measure: `controller CPU / step (user + sys)${label}`,
          value: `${round(cpuMsPerStep, 3)} ms (user ${round(run["userMs"]! / steps, 3)}, sys ${round(run["systemMs"]! / steps, 3)})`,
          target: mode === "direct" ? "" : "≤ 1.5 ms",
        },
        {
          measure: `controller peak RSS${label}`,
          value: `${round(run["peakRssMb"]!, 1)} MB (${round(run["rssBeforeMb"]!, 1)} MB before building; heap in use after the run ${round(run["heapUsedAfterMb"]!, 1)} MB)`,
          target: mode === "direct" ? "" : "≤ 200 MB",
        },
      );
      if (mode !== "direct") {
        const where = mode === "compiled" ? " (compiled)" : "";
        targets[`CPU ≤ 1.5 ms/step${where}`] = cpuMsPerStep <= 1.5;
        targets[`peak RSS ≤ 200 MB${where}`] = run["peakRssMb"]! <= 200;
      }
    }
  }
  const file = writeResults("scale", { params: { steps, largeSteps, planRepeats, stamp: stamp.kind }, rows, targets, buildMs, planMs, largeMs, runs });
  console.log(`\n## Scale: ${steps}-step pipeline (${machine().nproc} cores)\n`);
  console.log(markdownTable(rows));
  console.log(
    `\ntargets: ${Object.entries(targets)
      .map(([k, v]) => `${k}: ${v ? "met" : "MISSED"}`)
      .join("; ")}`,
  );
  console.log(`results: ${file}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

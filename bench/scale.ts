/**
 * Benchmark: scale. A 10,000-step pipeline (seeded random DAG, 0–3 earlier parents per step,
 * each step an instant `stamp` with its own parameter override, no GPUs):
 * - build (`new Pipeline` + 10,000 `addStep`) and validate + plan (`pipeline.plan()`) times;
 * - a full run of all steps on the local backend (`maxParallel` 8), with the controller's CPU time
 *   (`process.cpuUsage()`: this process, all its threads, not its children) per step and its
 *   peak RSS (`process.resourceUsage().maxRSS`: the whole process, build included).
 * Run it as its own process (run-all does) so the RSS is this benchmark's alone.
 *
 *   npx tsx bench/scale.ts [--steps 10000] [--plan-repeats 5] [--no-run]
 *
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pipeline } from "../src/api/pipeline.js";
import { builtinLocalConfig } from "../src/config/cluster-config.js";
import { resolveQueue } from "../src/config/resolve-queue.js";
import { FileStore } from "../src/store/file-store.js";
import { Task } from "../src/tasks/custom-task.js";
import { flag, machine, markdownTable, median, numArg, round, stampCommand, writeResults } from "./lib/common.js";
import { randomDag } from "./lib/dag.js";

const steps = numArg("steps", 10_000);
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
  ];
  const targets: Record<string, boolean> = { "build + validate + plan ≤ 500 ms": median(buildMs) + median(planMs) <= 500 };
  let run: Record<string, number> | undefined;
  if (!flag("no-run")) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await pipeline.executeLocally({ store, cluster: { executor: "local", gpus: 8, maxParallel: 8 } });
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await store.close();
    if (result.status !== "succeeded") throw new Error(`run ${result.status}`);
    const cpuMsPerStep = (cpu.user + cpu.system) / 1000 / steps;
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    run = { wallMs, userMs: cpu.user / 1000, systemMs: cpu.system / 1000, cpuMsPerStep, peakRssMb, rssBeforeMb };
    rows.push(
      { measure: "full run wall", value: `${round(wallMs / 1000, 1)} s (${round(wallMs / steps, 2)} ms/step)`, target: "" },
      { measure: "controller CPU / step (user + sys)", value: `${round(cpuMsPerStep, 3)} ms (user ${round(cpu.user / 1000 / steps, 3)}, sys ${round(cpu.system / 1000 / steps, 3)})`, target: "≤ 2 ms" },
      { measure: "controller peak RSS", value: `${round(peakRssMb, 1)} MB (${round(rssBeforeMb, 1)} MB before building)`, target: "≤ 200 MB" },
    );
    targets["CPU ≤ 2 ms/step"] = cpuMsPerStep <= 2;
    targets["peak RSS ≤ 200 MB"] = peakRssMb <= 200;
  }
  const file = writeResults("scale", { params: { steps, planRepeats, stamp: stamp.kind }, rows, targets, buildMs, planMs, run });
  console.log(`\n## Scale: ${steps}-step pipeline (${machine().nproc} cores)\n`);
  console.log(markdownTable(rows));
  console.log(`\ntargets: ${Object.entries(targets).map(([k, v]) => `${k}: ${v ? "met" : "MISSED"}`).join("; ")}`);
  console.log(`results: ${file}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

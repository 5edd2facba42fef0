/**
 * DAGs for the benchmarks and the contenders that run them: gpu-dag (the real runner on the local
 * backend), GNU make, snakemake, a plain serial shell script, and a zero-overhead discrete-event
 * simulation of gpu-dag's own scheduling policy. Every contender runs the same `stamp` command
 * per step, writing `<dir>/<step>` with its start and end time.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pipeline } from "../../src/api/pipeline.js";
import { LocalBackend } from "../../src/backends/local/local-backend.js";
import type { JobSpec, QueueBackend } from "../../src/backends/queue-backend.js";
import { FileStore } from "../../src/store/file-store.js";
import { seededRandom } from "../../src/study/space.js";
import { Task } from "../../src/tasks/custom-task.js";
import { readStamp, snakemakeCommand } from "./common.js";

/** One step: a name, its parents, how long it sleeps, how many of the fake GPUs it asks. */
export interface DagStep {
  name: string;
  parents: string[];
  ms: number;
  gpus: number;
}

/** A small seeded PRNG (mulberry32), so DAGs are reproducible. — the one studies use. */
export const rng = seededRandom;

/**
 * The random DAG: each step picks 0–3 distinct earlier steps as parents, sleeps
 * 50–500 ms and asks 1–4 GPUs.
 */
export function randomDag(n: number, seed: number, options: { minMs?: number; maxMs?: number; maxGpus?: number } = {}): DagStep[] {
  const next = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const steps: DagStep[] = [];
  for (let i = 0; i < n; i++) {
    const parents = new Set<string>();
    const k = Math.min(i, int(0, 3));
    while (parents.size < k) parents.add(`s${int(0, i - 1)}`);
    steps.push({ name: `s${i}`, parents: [...parents].sort(), ms: int(options.minMs ?? 50, options.maxMs ?? 500), gpus: int(1, options.maxGpus ?? 4) });
  }
  return steps;
}

/** A chain `s0 → s1 → … → s(n-1)` of instant steps with no GPUs. */
export function chainDag(n: number): DagStep[] {
  return Array.from({ length: n }, (_, i) => ({ name: `s${i}`, parents: i === 0 ? [] : [`s${i - 1}`], ms: 0, gpus: 0 }));
}

/** Children of each step. */
function childrenOf(dag: readonly DagStep[]): Map<string, string[]> {
  const children = new Map<string, string[]>(dag.map((s) => [s.name, []]));
  for (const s of dag) for (const p of s.parents) children.get(p)!.push(s.name);
  return children;
}

/** Longest path (ms) from each step to the end, the step itself included; and in steps. */
export function remainingPaths(dag: readonly DagStep[]): { ms: Map<string, number>; steps: Map<string, number> } {
  const children = childrenOf(dag);
  const ms = new Map<string, number>();
  const steps = new Map<string, number>();
  for (let i = dag.length - 1; i >= 0; i--) {
    const s = dag[i]!; // steps only have earlier parents: reverse insertion order is reverse topological
    let bestMs = 0;
    let bestSteps = 0;
    for (const c of children.get(s.name)!) {
      bestMs = Math.max(bestMs, ms.get(c)!);
      bestSteps = Math.max(bestSteps, steps.get(c)!);
    }
    ms.set(s.name, bestMs + s.ms);
    steps.set(s.name, bestSteps + 1);
  }
  return { ms, steps };
}

/** max(critical path, total GPU-seconds ÷ pool size), in ms. */
export function lowerBound(dag: readonly DagStep[], poolGpus: number): { criticalPathMs: number; gpuBoundMs: number; lowerBoundMs: number } {
  const criticalPathMs = Math.max(...remainingPaths(dag).ms.values());
  const gpuBoundMs = dag.reduce((sum, s) => sum + s.ms * s.gpus, 0) / poolGpus;
  return { criticalPathMs, gpuBoundMs, lowerBoundMs: Math.max(criticalPathMs, gpuBoundMs) };
}

/** Which ready step gets free GPUs first. */
export type Policy = "longest-path" | "longest-work" | "larger-gpus" | "fifo";
export const POLICIES: readonly Policy[] = ["longest-path", "longest-work", "larger-gpus", "fifo"];

/**
 * Priority per step for a policy. `longest-path` is gpu-dag's own without history (planned
 * `priority`: longest remaining path counted in steps, as src/pipeline/validate.ts computes it);
 * `longest-work` its own with run-time history (the remaining path in ms). `larger-gpus`: GPU demand. `fifo`: none (arrival order decides).
 */
export function priorities(dag: readonly DagStep[], policy: Policy): Map<string, number> {
  if (policy === "longest-path") return remainingPaths(dag).steps;
  // What gpu-dag uses once the store has run times (src/runner/run-times.ts): work left, in ms.
  if (policy === "longest-work") return remainingPaths(dag).ms;
  if (policy === "larger-gpus") return new Map(dag.map((s) => [s.name, s.gpus]));
  return new Map(dag.map((s) => [s.name, 0]));
}

/**
 * Zero-overhead discrete-event simulation of GpuPool's policy: waiting steps sorted by
 * (priority desc, GPUs desc, arrival), scanned in that order, each started if it fits (backfill).
 * `fifo` sorts by arrival only. Returns the makespan in ms.
 */
export function simulate(dag: readonly DagStep[], poolGpus: number, policy: Policy): number {
  const children = childrenOf(dag);
  const byName = new Map(dag.map((s) => [s.name, s]));
  const prio = priorities(dag, policy);
  const waitingParents = new Map(dag.map((s) => [s.name, s.parents.length]));
  let free = poolGpus;
  let seq = 0;
  const waiting: Array<{ name: string; prio: number; gpus: number; seq: number }> = [];
  const running: Array<{ end: number; name: string }> = [];
  const arrive = (name: string) => waiting.push({ name, prio: prio.get(name)!, gpus: byName.get(name)!.gpus, seq: seq++ });
  for (const s of dag) if (s.parents.length === 0) arrive(s.name);
  let now = 0;
  let done = 0;
  const before =
    policy === "fifo"
      ? (a: (typeof waiting)[number], b: (typeof waiting)[number]) => a.seq - b.seq
      : (a: (typeof waiting)[number], b: (typeof waiting)[number]) => b.prio - a.prio || b.gpus - a.gpus || a.seq - b.seq;
  while (done < dag.length) {
    waiting.sort(before);
    for (let i = 0; i < waiting.length; ) {
      const w = waiting[i]!;
      if (w.gpus <= free) {
        free -= w.gpus;
        running.push({ end: now + byName.get(w.name)!.ms, name: w.name });
        waiting.splice(i, 1);
      } else i++;
    }
    if (running.length === 0) throw new Error("simulation stuck: a step asks more GPUs than the pool has");
    running.sort((a, b) => a.end - b.end || (a.name < b.name ? -1 : 1));
    now = running[0]!.end;
    while (running.length > 0 && running[0]!.end === now) {
      const { name } = running.shift()!;
      free += byName.get(name)!.gpus;
      done += 1;
      for (const c of children.get(name)!) {
        const left = waitingParents.get(c)! - 1;
        waitingParents.set(c, left);
        if (left === 0) arrive(c);
      }
    }
  }
  return now;
}

/** Per-step stamps of a finished contender: start and end (ms since the epoch). */
export type Stamps = Map<string, { start: number; end: number }>;

/** What a real contender run gives back. */
export interface ContenderRun {
  /** Launch (call or spawn) → exit, ms. */
  wallMs: number;
  /** Launch → first step's process start, ms. */
  startupMs: number;
  /** First step start → last step end, ms. */
  makespanMs: number;
  stamps: Stamps;
}

function collect(dag: readonly DagStep[], dir: string, launchedAt: number, endedAt: number): ContenderRun {
  const stamps: Stamps = new Map(dag.map((s) => [s.name, readStamp(join(dir, s.name))]));
  const starts = [...stamps.values()].map((s) => s.start);
  const ends = [...stamps.values()].map((s) => s.end);
  const first = Math.min(...starts);
  return { wallMs: endedAt - launchedAt, startupMs: first - launchedAt, makespanMs: Math.max(...ends) - first, stamps };
}

/** Wall-clock now in ms since the epoch, sub-ms precision (comparable with the stamps). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function fresh(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `gd-bench-${prefix}-`));
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${err.slice(-2000)}`))));
  });
}

const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** The floor: every step's command, one after another, in one `sh` script (topological order). */
export async function runShellSerial(dag: readonly DagStep[], stamp: readonly string[]): Promise<ContenderRun> {
  const dir = fresh("sh");
  try {
    const script = dag.map((s) => [...stamp, join(dir, s.name), String(s.ms)].map(q).join(" ")).join("\n") + "\n";
    writeFileSync(join(dir, "run.sh"), script);
    const t0 = nowMs();
    await run("/bin/sh", [join(dir, "run.sh")], dir);
    return collect(dag, dir, t0, nowMs());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** GNU make: one target per step (the stamp file), prerequisites = parents; `make -j <jobs>`. */
export async function runMake(dag: readonly DagStep[], stamp: readonly string[], jobs: number): Promise<ContenderRun> {
  const dir = fresh("make");
  try {
    const sinks = new Set(dag.map((s) => s.name));
    for (const s of dag) for (const p of s.parents) sinks.delete(p);
    const lines = [`all: ${[...sinks].join(" ")}`, ".PHONY: all", ""];
    for (const s of dag) lines.push(`${s.name}: ${s.parents.join(" ")}`, `\t${[...stamp, s.name, String(s.ms)].join(" ")}`, "");
    writeFileSync(join(dir, "Makefile"), lines.join("\n"));
    const t0 = nowMs();
    await run("make", ["-s", `-j${jobs}`, "-f", "Makefile", "all"], dir);
    return collect(dag, dir, t0, nowMs());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** snakemake: one rule per step, `resources: gpu=N`; `--cores <cores> --resources gpu=<gpus> --scheduler greedy`. */
export async function runSnakemake(dag: readonly DagStep[], stamp: readonly string[], cores: number, gpus: number): Promise<ContenderRun> {
  const dir = fresh("smk");
  try {
    const sinks = new Set(dag.map((s) => s.name));
    for (const s of dag) for (const p of s.parents) sinks.delete(p);
    const lines = ["rule all:", `    input: ${[...sinks].map((n) => JSON.stringify(n)).join(", ")}`, ""];
    for (const s of dag) {
      lines.push(`rule ${s.name}:`);
      if (s.parents.length > 0) lines.push(`    input: ${s.parents.map((p) => JSON.stringify(p)).join(", ")}`);
      lines.push(`    output: ${JSON.stringify(s.name)}`);
      if (s.gpus > 0) lines.push(`    resources: gpu=${s.gpus}`);
      lines.push(`    shell: ${JSON.stringify([...stamp, "{output}", String(s.ms)].join(" "))}`, "");
    }
    writeFileSync(join(dir, "Snakefile"), lines.join("\n"));
    const t0 = nowMs();
    await run(snakemakeCommand() ?? "snakemake", ["--snakefile", "Snakefile", "--cores", String(cores), "--resources", `gpu=${gpus}`, "--scheduler", "greedy", "--quiet"], dir);
    return collect(dag, dir, t0, nowMs());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A LocalBackend whose jobs get the priorities of another policy (the controller passes gpu-dag's
 * own planned priority). `fifo` gives each job a decreasing priority in submission order.
 */
class PolicyBackend extends LocalBackend {
  readonly #prio: Map<string, number> | undefined;
  #seq = 0;
  constructor(gpus: number, policy: Policy, dag: readonly DagStep[]) {
    super({ gpus });
    this.#prio = policy === "fifo" ? undefined : priorities(dag, policy);
  }
  override submit(jobs: readonly JobSpec[], options?: Parameters<QueueBackend["submit"]>[1]) {
    const respec = jobs.map((j) => ({ ...j, priority: this.#prio ? this.#prio.get(j.step)! : -this.#seq++ }));
    return super.submit(respec, options);
  }
}

/** Options of {@link runGpuDag}. */
export interface GpuDagRunOptions {
  /** Fake GPUs in the local pool. */
  gpus: number;
  /** Another scheduling policy than gpu-dag's own (through a bench-side backend subclass). */
  policy?: Policy;
  /** Called between building the pipeline and executing it; its time is not in `startupMs`. */
  measureBuild?: (ms: number) => void;
  /**
   * A store home kept across runs (its run-time history with it), with the steps' output files
   * at the same paths each run (so each step is "the same step" for the history); else a fresh one.
   */
  home?: string;
}

/**
 * gpu-dag itself: a stored `Task` running the stamp command, one step per DAG step (queue
 * `bench-x<gpus>`, or `cpu` for none), `executeLocally()` with a local cluster of `gpus` fake GPUs.
 * `startupMs` counts from building the pipeline (new Pipeline, addStep…) to the first step's start.
 */
export async function runGpuDag(
  dag: readonly DagStep[],
  stamp: readonly string[],
  options: GpuDagRunOptions,
): Promise<ContenderRun & { status: string; journal: Array<{ type: string; step?: string; at: number }> }> {
  const dir = options.home ?? fresh("gd");
  const home = join(dir, "home");
  const out = join(dir, "out");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  try {
    const store = new FileStore({ home });
    const task = new Task({ projectName: "bench", taskName: "stamp", command: [...stamp, "{out}", "{ms}"], parameters: { out: "x", ms: 0 } });
    await task.createTask({ store });
    const t0 = nowMs();
    const pipeline = new Pipeline({ projectName: "bench", pipelineName: "bench" });
    for (const s of dag) {
      pipeline.addStep({
        name: s.name,
        baseTaskId: task.id!,
        parents: s.parents,
        executionQueue: s.gpus > 0 ? `bench-x${s.gpus}` : "cpu",
        parameterOverride: { out: join(out, s.name), ms: s.ms },
      });
    }
    options.measureBuild?.(nowMs() - t0);
    const backend = options.policy && options.policy !== "longest-path" ? new PolicyBackend(options.gpus, options.policy, dag) : undefined;
    const result = await pipeline.executeLocally({ store, home, cluster: { executor: "local", gpus: options.gpus }, ...(backend ? { backend } : {}) });
    const t1 = nowMs();
    await backend?.close();
    await store.close();
    if (result.status !== "succeeded") {
      const bad = Object.values(result.steps).find((s) => s.status !== "succeeded");
      throw new Error(`gpu-dag run ${result.status}: ${bad?.name} ${bad?.status} ${bad?.reason ?? ""}`);
    }
    const journal = readFileSync(join(home, "runs", result.runId, "journal.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; step?: string; at: number });
    return { ...collect(dag, out, t0, t1), status: result.status, journal };
  } finally {
    if (!options.home) rmSync(dir, { recursive: true, force: true });
  }
}

/** For a chain: child start − parent end per edge, ms. */
export function edgeLatencies(dag: readonly DagStep[], stamps: Stamps): number[] {
  const latencies: number[] = [];
  for (const s of dag) for (const p of s.parents) latencies.push(stamps.get(s.name)!.start - stamps.get(p)!.end);
  return latencies;
}

/**
 * Benchmark (not a test): a fan-out of N ready steps submitted to the real test Slurm from
 * scripts/test-env/slurm-up.sh. Reports wall time until every job has a Slurm id, Slurm commands
 * and remote execs per poll cycle, and time until all finished.
 *
 *   sudo bash scripts/test-env/slurm-up.sh && npx tsx bench/slurm-submit.ts [--jobs 100]
 *
 * Modes: `ssh` (one batched submit over one connection), `login-node` (same, local exec), and
 * `ssh-one-by-one` (a baseline: one submit round trip per job over the same connection).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isTerminal, type JobSpec, jobNameFor } from "../src/backends/queue-backend.js";
import type { SlurmBackend } from "../src/backends/slurm/slurm-backend.js";
import { cancelRun, slurmTestEnv, testBackend } from "../test/slurm/slurm-test-env.js";
import { markdownTable, writeResults } from "./lib/common.js";

const jobs = Number(process.argv[process.argv.indexOf("--jobs") + 1] || 100) || 100;
const env = slurmTestEnv();

async function bench(mode: "ssh" | "login-node" | "ssh-one-by-one"): Promise<Record<string, string | number>> {
  const runId = `bench${Date.now().toString(36)}`;
  const local = await mkdtemp(join(tmpdir(), "gd-bench-"));
  const backend: SlurmBackend = testBackend(env, mode === "login-node" ? "login-node" : "ssh");
  const specs: JobSpec[] = Array.from({ length: jobs }, (_, i) => ({
    jobName: jobNameFor(runId, `fan${i}`, 1),
    runId,
    step: `fan${i}`,
    attempt: 1,
    queue: "cpu-small",
    resources: { gpus: 0, nodes: 1 },
    argv: ["sh", "-c", `echo step ${i}`],
    env: { STEP: String(i) },
    secretEnv: {},
    attemptDir: join(local, `fan${i}`),
    priority: 0,
  }));
  try {
    await backend.poll(["1"]); // connect (and warm up) outside the measurement
    const base = backend.stats();
    const done = new Set<string>();
    let resolveAll!: () => void;
    const allDone = new Promise<void>((r) => (resolveAll = r));
    backend.onUpdate((id, state) => {
      if (isTerminal(state)) done.add(id);
      if (done.size === jobs) resolveAll();
    });
    const t0 = performance.now();
    if (mode === "ssh-one-by-one") for (const spec of specs) await backend.submit([spec]);
    else await backend.submit(specs);
    const submittedMs = performance.now() - t0;
    const afterSubmit = backend.stats();
    await allDone;
    const allDoneMs = performance.now() - t0;
    const end = backend.stats();
    const cycles = end.pollCycles - afterSubmit.pollCycles;
    const slurmCalls = end.squeue + end.sacct + end.scancel - (afterSubmit.squeue + afterSubmit.sacct + afterSubmit.scancel);
    return {
      mode,
      jobs,
      "submit wall ms": Math.round(submittedMs),
      "submit round trips": afterSubmit.execs - base.execs,
      "all finished ms": Math.round(allDoneMs),
      "poll cycles": cycles,
      "Slurm commands / cycle": +(slurmCalls / Math.max(1, cycles)).toFixed(2),
      "remote execs / cycle": +((end.execs - afterSubmit.execs) / Math.max(1, cycles)).toFixed(2),
    };
  } finally {
    cancelRun(runId);
    await backend.close();
    await rm(local, { recursive: true, force: true });
  }
}

const rows = [];
for (const mode of ["ssh", "login-node", "ssh-one-by-one"] as const) rows.push(await bench(mode));
const file = writeResults("slurm-submit", { params: { jobs }, rows });
console.log(`\n## Slurm submission: ${jobs}-step fan-out\n`);
console.log(markdownTable(rows));
console.log(`results: ${file}`);

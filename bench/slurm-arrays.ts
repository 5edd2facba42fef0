/**
 * Benchmark (not a test): N map elements (default 1,000) submitted to the real test Slurm from
 * scripts/test-env/slurm-up.sh over SSH, as job arrays (`JobSpec.group` set: one
 * `sbatch --array` per MaxArraySize chunk) versus as single jobs (the same specs without a group:
 * one `sbatch` each, still in one batched submit program). Reports the wall time of `submit()`
 * (until every element has its Slurm id), `sbatch` invocations, remote round trips and the size
 * of the submit program; contenders alternate, the order rotating each repeat.
 *
 *   sudo bash scripts/test-env/slurm-up.sh && npx tsx bench/slurm-arrays.ts [--elements 1000] [--repeats 3]
 *
 * Jobs are submitted held (`--hold` in the queue's extra sbatch options: same submission path,
 * but 1,000 jobs do not take the shared test node from other work) and cancelled right after
 * each measurement. Each repeat uses a fresh backend, so the array contender's one
 * `scontrol show config` (MaxArraySize, asked once per backend) is inside its time.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JobSpec, jobNameFor } from "../src/backends/queue-backend.js";
import { SlurmBackend } from "../src/backends/slurm/slurm-backend.js";
import type { ExecOptions, Transport } from "../src/backends/slurm/transport.js";
import { transportFor } from "../src/backends/slurm/transport-for.js";
import { cancelRun, slurmTestEnv, testClusterConfig } from "../test/slurm/slurm-test-env.js";
import { markdownTable, median, numArg, round, writeResults } from "./lib/common.js";

const elements = numArg("elements", 1000);
const repeats = numArg("repeats", 3);
const env = slurmTestEnv();
const base = testClusterConfig(env, "ssh");
const config = { ...base, queues: { ...base.queues, held: { partition: env.partitions.cpu, cpus: 1, nodes: 1, time: 600, extraSbatch: ["--hold"] } } };

type Contender = "arrays" | "single jobs";

interface Sample {
  contender: Contender;
  submitMs: number;
  sbatch: number;
  arrays: number;
  roundTrips: number;
  programKiB: number;
}

/** Counts the bytes of every program sent. */
function measured(inner: Transport): Transport & { bytes: number } {
  const counted = {
    kind: inner.kind,
    bytes: 0,
    exec: (command: string, options?: ExecOptions) => {
      counted.bytes += Buffer.byteLength(options?.stdin ?? command);
      return inner.exec(command, options);
    },
    readFile: inner.readFile.bind(inner),
    writeFile: inner.writeFile.bind(inner),
    close: () => inner.close(),
  };
  return counted;
}

async function sample(contender: Contender, repeat: number): Promise<Sample> {
  const runId = `bencharr${Date.now().toString(36)}${repeat}`;
  const local = await mkdtemp(join(tmpdir(), "gd-bench-arrays-"));
  const transport = measured(transportFor(config));
  const backend = new SlurmBackend({ config, transport, pollIntervals: { min: 60_000, max: 60_000 } });
  const specs: JobSpec[] = Array.from({ length: elements }, (_, i) => ({
    jobName: jobNameFor(runId, `gen[${i}]`, 1),
    runId,
    step: `gen[${i}]`,
    attempt: 1,
    queue: "held",
    resources: { gpus: 0, nodes: 1, cpus: 1, timeLimitSeconds: 600 },
    argv: ["sh", "-c", 'echo "element $1"', "sh", String(i)],
    env: { SEED: String(i % 8), CHUNK: String(Math.floor(i / 8)) },
    secretEnv: {},
    attemptDir: join(local, `gen[${i}]`),
    priority: 0,
    ...(contender === "arrays" ? { group: { key: "gen/a1", map: "gen", index: i, throttle: 8 } } : {}),
  }));
  try {
    await backend.poll(["1"]); // connect outside the measurement
    const before = backend.stats();
    const bytesBefore = transport.bytes;
    const t0 = performance.now();
    const submitted = await backend.submit(specs);
    const submitMs = performance.now() - t0;
    const after = backend.stats();
    if (submitted.length !== elements) throw new Error(`${contender}: ${submitted.length} ids for ${elements} specs`);
    return {
      contender,
      submitMs,
      sbatch: after.sbatch - before.sbatch,
      arrays: after.arrays - before.arrays,
      roundTrips: after.execs - before.execs,
      programKiB: (transport.bytes - bytesBefore) / 1024,
    };
  } finally {
    cancelRun(runId);
    await backend.close();
    await rm(local, { recursive: true, force: true });
  }
}

const contenders: Contender[] = ["arrays", "single jobs"];
const samples: Sample[] = [];
for (let r = 0; r < repeats; r++) {
  const order = r % 2 === 0 ? contenders : [...contenders].reverse();
  for (const contender of order) samples.push(await sample(contender, r));
}

const rows = contenders.map((contender) => {
  const mine = samples.filter((s) => s.contender === contender);
  return {
    contender,
    elements,
    "submit wall ms (median)": Math.round(median(mine.map((s) => s.submitMs))),
    "submit wall ms (each)": mine.map((s) => Math.round(s.submitMs)).join(", "),
    sbatch: mine[0]?.sbatch,
    "array jobs": mine[0]?.arrays,
    "round trips": mine[0]?.roundTrips,
    "program KiB": round(mine[0]?.programKiB ?? 0, 0),
  };
});
const ratio = round((rows[1]?.["submit wall ms (median)"] ?? 0) / Math.max(1, rows[0]?.["submit wall ms (median)"] ?? 1), 1);
const file = writeResults("slurm-arrays", { params: { elements, repeats }, samples, rows, ratio: { "single jobs ÷ arrays": ratio } });
console.log(`\n## Slurm: ${elements} map elements as job arrays vs single jobs\n`);
console.log(markdownTable(rows));
console.log(`\nsingle jobs ÷ arrays (submit wall, medians): ${ratio}×`);
console.log(`results: ${file}`);

/**
 * Benchmark (not a test): on the real test Slurm from scripts/test-env/slurm-up.sh, a 2-step chain
 * `a → b` run through the runner (`executeLocally()` with a Slurm cluster config over the test
 * sshd, built from .test-env/slurm.json as test/slurm/seed-pipeline.test.ts does), repeated.
 * Each job reports, through its outputs manifest, the wall-clock ms at which its command started
 * and ended. Measured per repeat:
 * - parent end → child submitted (`step:queued` of b): how fast the controller notices the end
 *   (adaptive squeue polling) and submits the child;
 * - parent end → child command start: the above plus Slurm's own scheduling (1 s ticks).
 *
 *   sudo bash scripts/test-env/slurm-up.sh && npx tsx bench/slurm-chain.ts [--repeats 5]
 *
 * @module
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterConfigInput } from "../src/api/create-run.js";
import { Pipeline } from "../src/api/pipeline.js";
import { FileStore } from "../src/store/file-store.js";
import { Task } from "../src/tasks/custom-task.js";
import { slurmTestEnv } from "../test/slurm/slurm-test-env.js";
import { machine, markdownTable, median, numArg, quantile, round, writeResults } from "./lib/common.js";

const repeats = numArg("repeats", 5);
const env = slurmTestEnv();
const cluster: ClusterConfigInput = {
  executor: "slurm",
  ssh: { host: env.host, port: env.port, user: env.user, identityFile: env.identityFile, knownHosts: env.knownHosts, hostKeyPolicy: "strict", readyTimeout: 20 },
  jobDir: env.jobDir,
  partition: env.partitions.cpu,
  queues: { "cpu-small": { partition: env.partitions.cpu, cpus: 1, nodes: 1 } },
};
// Start and end of the command, in ms since the epoch, as metrics of the outputs manifest.
const script = 's=$(date +%s%3N); e=$(date +%s%3N); echo "{\\"metrics\\":{\\"start_ms\\":$s,\\"end_ms\\":$e}}" > "$GPU_DAG_OUTPUT_DIR/outputs.json"';

const samples: Array<{ endToSubmitMs: number; endToStartMs: number; runWallMs: number }> = [];
for (let r = 0; r < repeats; r++) {
  const home = await mkdtemp(join(tmpdir(), "gd-bench-slurm-chain-"));
  try {
    const store = new FileStore({ home });
    // `{{` and `}}` are literal braces in a Task command (`{name}` is a parameter).
    const task = new Task({ projectName: "bench", taskName: "stamp", command: ["sh", "-c", script.replace(/[{}]/g, (c) => c + c)] });
    await task.createTask({ store });
    const pipeline = new Pipeline({ projectName: "bench", pipelineName: "slurm-chain" });
    pipeline.addStep({ name: "a", baseTaskId: task.id!, executionQueue: "cpu-small" });
    pipeline.addStep({ name: "b", baseTaskId: task.id!, parents: ["a"], executionQueue: "cpu-small" });
    let queuedB = NaN;
    const t0 = Date.now();
    const result = await pipeline.executeLocally({
      store,
      home,
      cluster,
      onEvent: (e) => {
        if (e.type === "step:queued" && e.step === "b") queuedB = e.at;
      },
    });
    const runWallMs = Date.now() - t0;
    await store.close();
    if (result.status !== "succeeded")
      throw new Error(
        `run ${result.status} (${await import("node:fs/promises").then((fs) => fs.readFile(join(result.steps["a"]!.attemptDir ?? "", "outputs.json"), "utf8")).catch(() => "")}): ${JSON.stringify(Object.values(result.steps).map((s) => [s.name, s.status, s.reason]))}`,
      );
    const a = result.metrics["a"]!;
    const b = result.metrics["b"]!;
    samples.push({ endToSubmitMs: queuedB - a["end_ms"]!, endToStartMs: b["start_ms"]! - a["end_ms"]!, runWallMs });
    process.stderr.write(`repeat ${r + 1}/${repeats}: end → child submitted ${queuedB - a["end_ms"]!} ms\n`);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

const col = (k: keyof (typeof samples)[number]) => samples.map((s) => s[k]);
const rows = [
  { measure: "parent end → child submitted", "p50 ms": round(median(col("endToSubmitMs")), 0), "max ms": Math.max(...col("endToSubmitMs")) },
  { measure: "parent end → child command start", "p50 ms": round(median(col("endToStartMs")), 0), "max ms": Math.max(...col("endToStartMs")) },
  { measure: "whole 2-step run (wall)", "p50 ms": round(median(col("runWallMs")), 0), "max ms": Math.max(...col("runWallMs")) },
];
const file = writeResults("slurm-chain", { params: { repeats, p90EndToSubmit: quantile(col("endToSubmitMs"), 0.9) }, rows, samples });
console.log(`\n## Slurm: 2-step chain through the runner over sshd, ${repeats} repeats (${machine().nproc} cores)\n`);
console.log(markdownTable(rows));
console.log(`results: ${file}`);

/**
 * `npm run bench`: every benchmark, one after another, each in its own process (so RSS and CPU
 * figures are each benchmark's own). The Slurm ones run when the Slurm test env is up
 * (`.test-env/slurm.json`, written by `sudo bash scripts/test-env/slurm-up.sh`).
 *
 *   npm run bench                       # all
 *   npm run bench -- --only makespan    # one (by file name without .ts), or a comma list
 *   npm run bench -- --quick            # small sizes and repeats: a smoke run, not for the README
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO, strArg } from "./lib/common.js";

const quick = process.argv.includes("--quick");
const only = strArg("only", "").split(",").filter(Boolean);
const slurmUp = existsSync(join(REPO, ".test-env/slurm.json"));

const benches: Array<{ name: string; args: string[]; quickArgs: string[]; slurm?: boolean }> = [
  { name: "dispatch-latency", args: [], quickArgs: ["--steps", "50", "--repeats", "1", "--no-snakemake"] },
  { name: "makespan", args: [], quickArgs: ["--sizes", "40", "--seeds", "1", "--repeats", "1"] },
  { name: "schedule-choice", args: [], quickArgs: ["--sizes", "40", "--seeds", "1"] },
  { name: "scale", args: [], quickArgs: ["--steps", "500", "--large-steps", "2000", "--plan-repeats", "1", "--spawner-only"] },
  { name: "runs-index", args: [], quickArgs: ["--runs", "200", "--repeats", "1"] },
  { name: "ui", args: [], quickArgs: ["--runs", "200", "--steps", "200", "--repeats", "1"] },
  { name: "slurm-submit", args: [], quickArgs: ["--jobs", "20"], slurm: true },
  { name: "slurm-arrays", args: [], quickArgs: ["--elements", "50", "--repeats", "1"], slurm: true },
  { name: "slurm-chain", args: [], quickArgs: ["--repeats", "1"], slurm: true },
];

let failed = 0;
for (const bench of benches) {
  if (only.length > 0 && !only.includes(bench.name)) continue;
  if (bench.slurm && !slurmUp) {
    console.log(`\n# ${bench.name}: skipped (Slurm test env not up: sudo bash scripts/test-env/slurm-up.sh)`);
    continue;
  }
  console.log(`\n# ${bench.name}`);
  const result = spawnSync(process.execPath, ["--import", "tsx", join(REPO, "bench", `${bench.name}.ts`), ...(quick ? bench.quickArgs : bench.args)], {
    cwd: REPO,
    stdio: "inherit",
    env: { ...process.env, ...(quick ? { GPU_DAG_BENCH_SUFFIX: "-quick" } : {}) },
  });
  if (result.status !== 0) {
    failed += 1;
    console.log(`# ${bench.name} FAILED (exit ${result.status ?? result.signal})`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;

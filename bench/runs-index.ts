/**
 * Benchmark: the experiment table on a large store. A store of N runs shaped like the seed
 * pipeline's (3 steps: a compression and two evaluations, a model, two metrics, a pipeline
 * parameter, a name and tags; journals of the real shape, ~4 KB each), written directly as files.
 *
 * - `gpu-dag runs` end to end (the compiled CLI, a fresh `node` per call, as a user runs it):
 *   plain (the text table shows the newest 50), `--limit 0` (all rows printed), with two metric
 *   columns, and filtered + sorted (`--where --tag --sort --limit`); floors: `node -e 0` and
 *   `gpu-dag --version`. Target: ≤ 300 ms for 5,000 runs.
 * - in-process, side by side (interleaved, median of repeats): the index read
 *   (`runSummaries` + `queryRuns`) against the scan the table did before the index (every run's
 *   record and journal read and replayed).
 * - the first read of a store without an index (the index rebuilt from every journal, once).
 *
 *   npx tsx bench/runs-index.ts [--runs 5000] [--repeats 7] [--keep]
 *
 * `--keep` leaves the store (its path is printed) for profiling.
 *
 * The CLI is compiled once with `tsc -p tsconfig.build.json` into bench/.build/dist (ignored).
 * Each CLI call's CPU time (user + sys, GNU time) is recorded beside its wall time: on a shared,
 * loaded machine the wall clock also counts the time spent waiting for a CPU.
 *
 * @module
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { queryRuns } from "../src/results/run-query.js";
import { runSummaries } from "../src/results/run-summaries.js";
import { replayJournal } from "../src/runner/replay.js";
import { FileStore } from "../src/store/file-store.js";
import { BUILD_DIR, flag, machine, markdownTable, median, numArg, REPO, round, writeResults } from "./lib/common.js";
import { writeSyntheticStore } from "./lib/synthetic-runs.js";

const runs = numArg("runs", 5000);
const repeats = numArg("repeats", 7);
const dir = mkdtempSync(join(tmpdir(), "gd-bench-runs-"));
const home = join(dir, "home");

function writeStore(): void {
  writeSyntheticStore(home, runs);
}

/** The CLI compiled as users get it (dist/), into bench/.build/dist. */
function buildCli(): string {
  const out = join(BUILD_DIR, "dist");
  execFileSync(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-p", join(REPO, "tsconfig.build.json"), "--outDir", out], { cwd: REPO, stdio: "inherit" });
  return join(out, "cli", "main.js");
}

/** GNU time, for the CPU time (user + sys) of each command: on a loaded machine the wall clock also counts waiting for a CPU. */
const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

function timeCommand(argv: readonly string[]): { ms: number; cpuMs?: number; stdout: string } {
  const cpuFile = join(dir, "cpu.txt");
  const [command, args] = GNU_TIME ? [GNU_TIME, ["-f", "%U %S", "-o", cpuFile, process.execPath, ...argv]] : [process.execPath, [...argv]];
  const t = performance.now();
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 1 << 28 });
  const ms = performance.now() - t;
  if (result.status !== 0) throw new Error(`${argv.join(" ")} exited ${result.status}: ${result.stderr}`);
  if (!GNU_TIME) return { ms, stdout: result.stdout };
  const [user, sys] = readFileSync(cpuFile, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
  return { ms, cpuMs: (user! + sys!) * 1000, stdout: result.stdout };
}

try {
  const tWrite = performance.now();
  writeStore();
  const writeMs = performance.now() - tWrite;
  const cli = buildCli();

  // First read: no index yet; every run is summarised from its journal and recorded.
  const first = timeCommand([cli, "--home", home, "runs", "--limit", "1"]);

  const store = new FileStore({ home });
  const inProcess = { index: [] as number[], scan: [] as number[] };
  const e2e = { floor: [] as number[], version: [] as number[], plain: [] as number[], all: [] as number[], metrics: [] as number[], filtered: [] as number[] };
  const cpu: Record<keyof typeof e2e, number[]> = { floor: [], version: [], plain: [], all: [], metrics: [], filtered: [] };
  const commands = {
    version: [cli, "--version"],
    plain: [cli, "--home", home, "runs"],
    all: [cli, "--home", home, "runs", "--limit", "0"],
    metrics: [cli, "--home", home, "runs", "--metric", "openllm/acc", "--metric", "leaderboard/acc"],
    filtered: [cli, "--home", home, "runs", "--where", "numSamples=256", "--tag", "odd", "--metric", "openllm/acc", "--sort=-openllm/acc", "--limit", "20"],
  };
  let rows = 0;
  let shown = 0;
  for (let r = 0; r < repeats; r++) {
    // Contenders interleaved, the order rotating each repeat.
    const order = r % 2 === 0 ? (["index", "scan"] as const) : (["scan", "index"] as const);
    for (const which of order) {
      const t = performance.now();
      if (which === "index") rows = queryRuns(await runSummaries(store), { metrics: ["openllm/acc"] }).length;
      else {
        let n = 0;
        for (const record of await store.listRuns()) {
          const names = ((record.pipeline as { steps?: Array<{ name: string }> }).steps ?? []).map((s) => s.name);
          replayJournal(await store.readJournal(record.id), names);
          n++;
        }
        if (n !== runs) throw new Error(`scan saw ${n} runs`);
      }
      inProcess[which].push(performance.now() - t);
    }
    const floor = timeCommand(["-e", "0"]);
    e2e.floor.push(floor.ms);
    if (floor.cpuMs !== undefined) cpu.floor.push(floor.cpuMs);
    for (const [name, argv] of Object.entries(commands)) {
      const { ms, cpuMs, stdout } = timeCommand(argv);
      e2e[name as keyof typeof commands].push(ms);
      if (cpuMs !== undefined) cpu[name as keyof typeof commands].push(cpuMs);
      if (name === "filtered") shown = stdout.trim().split("\n").length - 1;
    }
  }
  await store.close();
  if (rows !== runs) throw new Error(`index gave ${rows} rows, expected ${runs}`);

  const row = (measure: string, samples: readonly number[], target?: number, cpuSamples?: readonly number[]) => ({
    measure,
    "median ms": round(median(samples), 1),
    "max ms": round(Math.max(...samples), 1),
    "CPU ms (user+sys)": cpuSamples?.length ? round(median(cpuSamples), 1) : "",
    target: target === undefined ? "" : `≤ ${target}`,
    met: target === undefined ? "" : median(samples) <= target ? "yes" : "no",
  });
  const table = [
    row(`gpu-dag runs (CLI, ${runs} runs; the first 50 shown)`, e2e.plain, 300, cpu.plain),
    row(`gpu-dag runs --limit 0 (all ${runs} rows printed)`, e2e.all, 300, cpu.all),
    row("gpu-dag runs --metric ×2 (CLI, first 50 shown)", e2e.metrics, 300, cpu.metrics),
    row(`runs --where --tag --sort --limit 20 (CLI; ${shown} shown)`, e2e.filtered, 300, cpu.filtered),
    row("node -e 0 (process floor)", e2e.floor, undefined, cpu.floor),
    row("gpu-dag --version (CLI start-up)", e2e.version, undefined, cpu.version),
    row("in-process: index read + query", inProcess.index),
    row("in-process: scan (every journal replayed; the table before the index)", inProcess.scan),
    { measure: "scan ÷ index (in-process)", "median ms": round(median(inProcess.scan) / median(inProcess.index), 1), "max ms": "", "CPU ms (user+sys)": "", target: "", met: "" },
    row("first read without an index (rebuilt from the journals, CLI)", [first.ms]),
  ];
  console.log(markdownTable(table));
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(`\nstore written in ${round(writeMs / 1000, 1)} s; ${repeats} repeats; load average ${load}; machine ${JSON.stringify(machine())}`);
  const file = writeResults("runs-index", { runs, repeats, loadAverage: load, e2e, cpu, inProcess, firstReadMs: first.ms, writeMs, table });
  console.log(`results: ${file}`);
} finally {
  if (flag("keep")) console.log(`store kept: ${home}`);
  else rmSync(dir, { recursive: true, force: true });
}

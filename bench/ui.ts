/**
 * Benchmark: the dashboard in real headless Chromium (Debian's `chromium`, playwright-core), the
 * server started in-process with `startUi()` over stores written as files.
 *
 * - **runs page, 5,000 runs** (seed-pipeline-shaped runs, `bench/lib/synthetic-runs.ts`): from
 *   `page.goto` to the table's first rows in the DOM. The first load of a store without an index
 *   (the index rebuilt from every journal) is reported on its own; then `--repeats` loads.
 *   Target ≤ 1 s.
 * - **1,000-step DAG** (one run, 20 layers of 50 steps, each step with 1–3 parents in the layer
 *   before, all succeeded): from `page.goto` to all 1,000 boxes and the timeline in the DOM (dagre
 *   layout + Preact render + SVG). Target ≤ 2 s.
 * - **live update**: a running run's page open; a `job-started` entry is appended to its journal
 *   (as a controller writes it) and the time until the node's `data-status` turns `running` in the
 *   page is measured (a MutationObserver in the page stamps it; same clock). Target ≤ 500 ms.
 *
 *   npx tsx bench/ui.ts [--runs 5000] [--steps 1000] [--repeats 5]
 *
 * @module
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { JournalEntry, RunRecord } from "../src/store/records.js";
import { startUi } from "../src/ui/server.js";
import { machine, markdownTable, median, numArg, round, writeResults } from "./lib/common.js";
import { writeSyntheticStore } from "./lib/synthetic-runs.js";

const runs = numArg("runs", 5000);
const steps = numArg("steps", 1000);
const repeats = numArg("repeats", 5);
const CHROMIUM = process.env["GPU_DAG_CHROMIUM"] ?? "/usr/bin/chromium";
const dir = mkdtempSync(join(tmpdir(), "gd-bench-ui-"));

/** A run of `n` steps in layers of 50 (parents in the layer before), every step in state `final`, or the last one pending. */
function bigRun(home: string, id: string, n: number, live: boolean): void {
  const width = 50;
  const names = Array.from({ length: n }, (_, i) => `s${String(i).padStart(4, "0")}`);
  const parentsOf = (i: number) => {
    const layer = Math.floor(i / width);
    if (layer === 0) return [];
    const before = (layer - 1) * width;
    return [...new Set([before + (i % width), before + ((i * 7) % width), before + ((i * 13) % width)].slice(0, 1 + (i % 3)))].map((k) => names[k]!);
  };
  const t0 = Date.now() - 60_000;
  const record: RunRecord = {
    id,
    projectName: "bench",
    pipelineName: `dag-${n}`,
    createdAt: new Date(t0).toISOString(),
    cluster: { name: "local", source: "builtin:local" },
    pipeline: {
      version: 1,
      projectName: "bench",
      pipelineName: `dag-${n}`,
      parameters: {},
      tasks: {},
      defaults: {},
      steps: names.map((name, i) => ({ name, baseTaskId: "t", parents: parentsOf(i), executionQueue: "cpu", parameterOverride: {} })),
    },
    tasks: [],
    mode: "local",
    options: {},
  } as unknown as RunRecord;
  const journal: JournalEntry[] = [{ type: "run-started", at: t0, controller: "pid 1" }];
  names.forEach((step, i) => {
    const at = t0 + Math.floor(i / width) * 1000;
    journal.push({ type: "attempt-planned", at, step, attempt: 1, jobName: `gd-${id}-${step}-a1`, argv: ["true"], parameters: {}, queue: "cpu" });
    journal.push({ type: "job-submitted", at: at + 1, step, attempt: 1, backendJobId: `j${i}` });
    if (live && i === n - 1) return;
    journal.push({ type: "job-started", at: at + 2, step, attempt: 1 });
    journal.push({
      type: "attempt-finished",
      at: at + 900,
      step,
      attempt: 1,
      status: "succeeded",
      exitCode: 0,
      infrastructure: false,
      reason: "",
      outputs: { models: [], artifacts: [], metrics: {}, simulated: false },
    });
  });
  if (!live) journal.push({ type: "run-finished", at: t0 + 30_000, status: "succeeded" });
  mkdirSync(join(home, "runs", id), { recursive: true });
  writeFileSync(join(home, "runs", id, "run.json"), JSON.stringify(record));
  writeFileSync(join(home, "runs", id, "journal.jsonl"), journal.map((e) => JSON.stringify(e)).join("\n") + "\n");
}

async function main(): Promise<void> {
  const runsHome = join(dir, "runs-home");
  const dagHome = join(dir, "dag-home");
  let t = performance.now();
  writeSyntheticStore(runsHome, runs);
  bigRun(dagHome, "20261201-000000-dag000", steps, false);
  bigRun(dagHome, "20261201-000001-live00", 20, true);
  console.log(`stores written in ${round((performance.now() - t) / 1000, 1)} s`);

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const runsUi = await startUi({ home: runsHome });
  const dagUi = await startUi({ home: dagHome });
  const results: Record<string, unknown> = {};
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // The bundle is built on the first request of a checkout without dist/: not part of a page load.
    // (Warmed on the other store: the runs store's index is still to be built by the first load.)
    await page.goto(`${dagUi.url}#/models`);
    await page.locator("h1").waitFor();

    const loadRuns = async () => {
      await page.goto("about:blank");
      t = performance.now();
      await page.goto(`${runsUi.url}#/`);
      await page.locator("#runs tbody tr").first().waitFor({ timeout: 60_000 });
      return performance.now() - t;
    };
    const runsCold = await loadRuns();
    const runsWarm: number[] = [];
    for (let i = 0; i < repeats; i++) runsWarm.push(await loadRuns());
    const rowsShown = await page.locator("#runs tbody tr").count();
    const countText = await page.locator("#runs-count").textContent();

    const loadDag = async () => {
      await page.goto("about:blank");
      t = performance.now();
      await page.goto(`${dagUi.url}#/run/20261201-000000-dag000`);
      await page.waitForFunction((n) => document.querySelectorAll("g.node").length === n && document.querySelectorAll("svg.timeline g.bar").length === n, steps, { timeout: 60_000, polling: "raf" });
      return performance.now() - t;
    };
    const dag: number[] = [];
    for (let i = 0; i < repeats; i++) dag.push(await loadDag());

    const live: number[] = [];
    const liveId = "20261201-000001-live00";
    const journal = join(dagHome, "runs", liveId, "journal.jsonl");
    await page.goto(`${dagUi.url}#/run/${liveId}`);
    await page.locator('g.node[data-step="s0019"]').waitFor();
    // Each round appends the next entry a controller would write for the last step, in a cycle
    // that changes its state each time: started (running), failed, planned again (queued).
    let attempt = 1;
    for (let i = 0; i < repeats * 3; i++) {
      const before = await page.locator('g.node[data-step="s0019"]').getAttribute("data-status");
      await page.evaluate((was) => {
        const w = window as unknown as { __seen?: number };
        delete w.__seen;
        const observer = new MutationObserver(() => {
          const now = document.querySelector('g.node[data-step="s0019"]')?.getAttribute("data-status");
          if (now !== undefined && now !== was) {
            w.__seen = performance.timeOrigin + performance.now();
            observer.disconnect();
          }
        });
        observer.observe(document.querySelector("main")!, { attributes: true, subtree: true, childList: true });
      }, before);
      const at = Date.now();
      const entries: JournalEntry[] =
        i % 3 === 0
          ? [{ type: "job-started", at, step: "s0019", attempt }]
          : i % 3 === 1
            ? [{ type: "attempt-finished", at, step: "s0019", attempt, status: "failed", exitCode: 1, infrastructure: false, reason: "bench" }]
            : [
                { type: "attempt-planned", at, step: "s0019", attempt: attempt + 1, jobName: `gd-${liveId}-s0019-a${attempt + 1}`, argv: ["true"], parameters: {}, queue: "cpu" },
                { type: "job-submitted", at, step: "s0019", attempt: attempt + 1, backendJobId: `j${attempt + 1}` },
              ];
      if (i % 3 === 2) attempt += 1;
      appendFileSync(journal, entries.map((e) => JSON.stringify(e)).join("\n") + "\n");
      await page.waitForFunction(() => (window as unknown as { __seen?: number }).__seen !== undefined, undefined, { timeout: 10_000 });
      live.push((await page.evaluate(() => (window as unknown as { __seen: number }).__seen)) - at);
      // Let the page settle (and the poll phase vary) before the next entry.
      await new Promise((r) => setTimeout(r, 250 + ((i * 137) % 300)));
    }
    Object.assign(results, { runsCold, runsWarm, rowsShown, countText, dag, live });
  } finally {
    await browser.close();
    await runsUi.close();
    await dagUi.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = [
    { measure: `runs page, ${runs} runs, first load (index rebuilt)`, "ms (median)": round(results["runsCold"] as number, 0), max: "", target: "", met: "" },
    {
      measure: `runs page, ${runs} runs, first render`,
      "ms (median)": round(median(results["runsWarm"] as number[]), 0),
      max: round(Math.max(...(results["runsWarm"] as number[])), 0),
      target: "≤ 1000",
      met: median(results["runsWarm"] as number[]) <= 1000 ? "yes" : "no",
    },
    {
      measure: `${steps}-step DAG laid out and rendered (+ timeline)`,
      "ms (median)": round(median(results["dag"] as number[]), 0),
      max: round(Math.max(...(results["dag"] as number[])), 0),
      target: "≤ 2000",
      met: median(results["dag"] as number[]) <= 2000 ? "yes" : "no",
    },
    {
      measure: "live update: journal entry → page",
      "ms (median)": round(median(results["live"] as number[]), 0),
      max: round(Math.max(...(results["live"] as number[])), 0),
      target: "≤ 500",
      met: Math.max(...(results["live"] as number[])) <= 500 ? "yes" : "no",
    },
  ];
  console.log(markdownTable(rows));
  console.log(`runs page: ${results["rowsShown"]} rows rendered; "${results["countText"]}"; ${repeats} repeats; machine ${JSON.stringify(machine())}`);
  console.log(`results: ${writeResults("ui", { machine: machine(), runs, steps, repeats, ...results, rows })}`);
}

await main();

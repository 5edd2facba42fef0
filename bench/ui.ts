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
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { JournalEntry } from "../src/store/records.js";
import { startUi } from "../src/ui/server.js";
import { machine, markdownTable, median, numArg, round, writeResults } from "./lib/common.js";
import { bigRun, writeSyntheticStore } from "./lib/synthetic-runs.js";

const runs = numArg("runs", 5000);
const steps = numArg("steps", 1000);
const repeats = numArg("repeats", 5);
const CHROMIUM = process.env["GPU_DAG_CHROMIUM"] ?? "/usr/bin/chromium";
const dir = mkdtempSync(join(tmpdir(), "gd-bench-ui-"));

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

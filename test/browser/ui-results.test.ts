/**
 * The dashboard's results pages in a real headless Chromium over a real store: two runs ticked on
 * the runs page and compared (metrics with their difference, a bar chart per metric, the loss
 * series as lines); the recovery view of a baseline and two candidates; the models page with a
 * model's lineage and evaluations; a run's timeline; a step's command and environment without
 * secret values. A metric and a parameter named with markup are shown as text throughout.
 */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempHome } from "../unit/cli/cli-helpers.js";
import { HOSTILE, type ResultsFixture, resultsFixture, SECRET_VALUE, TOKEN_VALUE } from "../unit/ui/results-fixture.js";
import { launch, SHOTS, startUiCommand } from "./browser-helpers.js";

describe("gpu-dag ui results pages in Chromium", { timeout: 90_000 }, () => {
  let browser: Browser;
  let ui: ChildProcess;
  let url: string;
  let page: Page;
  let made: ResultsFixture;
  const open = (hash: string) => page.goto(`${url}#${hash}`);
  const cells = (row: string) => page.locator(row).locator("td").allTextContents();
  const notPwned = async () => {
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator("main script").count()).toBe(0);
  };

  beforeAll(async () => {
    const home = await tempHome("gpu-dag-browser-results-");
    made = await resultsFixture(home);
    ({ url, child: ui } = await startUiCommand(home));
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    ui?.kill("SIGINT");
  });

  it("the runs page filters with where terms over the whole store, shows chosen metrics as columns and sorts by one", async () => {
    await open("/");
    await page.locator("#filter-metrics").fill("arc/acc");
    await page.locator('#runs th:has-text("arc/acc")').waitFor();
    await page.locator("#filter-where").fill("arc/acc>0");
    await page.locator("#runs-count", { hasText: "3 of 3 matching" }).waitFor();
    await page.locator('#runs th:has-text("arc/acc")').click(); // ascending
    await page.locator('#runs th[aria-sort="ascending"]', { hasText: "arc/acc" }).waitFor();
    await page.waitForFunction(() => document.querySelector("#runs tbody tr td.metric")?.textContent === "0.47");
    expect(await page.locator("#runs tbody td.metric").allTextContents()).toEqual(["0.47", "0.48", "0.5"]);
    await page.locator("#filter-where").fill("scheme=none");
    await page.locator("#runs-count", { hasText: "1 of 1 matching" }).waitFor();
    expect(await page.locator("#runs tbody tr").first().textContent()).toContain("base-model");
    await page.locator("#filter-where").fill("scheme");
    await page.locator("#filter-problem").waitFor();
    expect(await page.locator("#filter-problem").textContent()).toContain('--where "scheme": expected key=value');
    await page.locator("#filter-where").fill("");
    await page.locator("#filter-metrics").fill("");
    await page.locator("#filter-problem").waitFor({ state: "detached" });
  });

  it("compares two runs ticked on the runs page: deltas, a bar chart per metric, series as lines", async () => {
    await open("/");
    for (const name of ["base-model", "w4a16"]) await page.locator("#runs tbody tr", { hasText: name }).locator("input[type=checkbox]").check();
    await page.locator("#compare-selected").click();
    await page.locator("#compare-metrics").waitFor();
    expect(page.url()).toContain(`ref=${made.base}`);
    // base-model was ticked first: it is the first column, w4a16's delta is against it.
    expect(await cells('#compare-metrics tr[data-metric="arc/acc"]')).toEqual(["arc/acc", "0.5", "0.48", "-0.02"]);
    expect(await cells('#compare-metrics tr[data-metric="hellaswag/acc_norm"]')).toEqual(["hellaswag/acc_norm", "0.6", "0.57", "-0.03"]);
    expect(await cells(`#compare-metrics tr[data-metric="${HOSTILE.replace(/"/g, '\\"')}"]`)).toEqual([HOSTILE, "1", "2", "+1"]);
    expect(await cells('#compare-params tr[data-param="scheme"]')).toEqual(["scheme", "none", HOSTILE]);
    const metrics = await page.locator("#compare-metrics tbody tr").count();
    expect(await page.locator("figure.bar-chart").count()).toBe(metrics);
    const bars = page.locator('figure.bar-chart[data-metric="arc/acc"] g.bar');
    expect(await bars.evaluateAll((gs) => gs.map((g) => Number(g.getAttribute("data-value"))))).toEqual([0.5, 0.48]);
    const heights = await bars.locator("rect").evaluateAll((rs) => rs.map((r) => Number(r.getAttribute("height"))));
    expect(heights[0]).toBeGreaterThan(heights[1]!);
    const loss = page.locator('figure.line-chart[data-metric="train/loss"] polyline');
    expect(await loss.count()).toBe(2);
    expect(await loss.first().evaluate((p) => p.getAttribute("points")!.split(" ").length)).toBe(4);
    await notPwned();
    await page.screenshot({ path: join(SHOTS, "compare.png"), fullPage: true });
  });

  it("opens the recovery view: per-benchmark recovery and the Average rows, as `report recovery`", async () => {
    await open("/recovery");
    await page.locator("#recovery-baseline").fill("base-model");
    await page.locator("#recovery-candidates").fill("w4a16 compressed");
    await page.locator("form.refs button").click();
    await page.locator("#recovery").waitFor();
    const header = await page.locator("#recovery thead th").allTextContents();
    expect(header).toEqual(["Category", "Benchmark", "base-model", "w4a16", "Recovery (w4a16)", "compressed", "Recovery (compressed)"]);
    const rows = await page.locator("#recovery tbody tr").evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll("td"), (td) => td.textContent)));
    const arc = rows.find((r) => r[1] === "arc (acc)")!;
    expect(arc.slice(2)).toEqual(["0.5", "0.48", "96.00%", "0.47", "94.00%"]);
    expect(rows.find((r) => r[1] === "hellaswag (acc_norm)")!.slice(2, 5)).toEqual(["0.6", "0.57", "95.00%"]);
    expect(await page.locator("#recovery tr.average").count()).toBeGreaterThan(0);
    await notPwned();
    await page.screenshot({ path: join(SHOTS, "recovery.png"), fullPage: true });
  });

  it("shows the models page: the registry, a model's lineage and its evaluations", async () => {
    await open("/models");
    const row = page.locator("#models tbody tr", { hasText: "tiny-w4a16" });
    await row.waitFor();
    expect((await row.locator("td").allTextContents())[4]).toBe("1");
    await row.locator("a").first().click();
    await page.locator("#lineage").waitFor();
    expect(await page.locator("#lineage h2").textContent()).toContain("tiny-w4a16");
    expect(await cells("#evaluations tbody tr")).toEqual(expect.arrayContaining(["compressed", "eval", "0.47"]));
    await page.screenshot({ path: join(SHOTS, "models.png"), fullPage: true });
  });

  it("draws the run timeline and shows a step's command and environment, secret values never", async () => {
    await open(`/run/${made.compressed}`);
    await page.locator("svg.timeline g.bar").first().waitFor();
    expect(await page.locator("svg.timeline g.bar").evaluateAll((gs) => gs.map((g) => [g.getAttribute("data-step"), g.getAttribute("data-status")]))).toEqual([
      ["compress", "succeeded"],
      ["eval", "succeeded"],
    ]);
    const [compressEnd, evaluateStart] = await page
      .locator("svg.timeline g.bar")
      .evaluateAll((gs) => [
        Number(gs[0]!.querySelectorAll("rect")[1]!.getAttribute("x")) + Number(gs[0]!.querySelectorAll("rect")[1]!.getAttribute("width")),
        Number(gs[1]!.querySelectorAll("rect")[0]!.getAttribute("x")),
      ]);
    expect(evaluateStart).toBeGreaterThanOrEqual(compressEnd! - 2);
    await open(`/run/${made.compressed}/step/compress`);
    await page.locator("table.env").waitFor();
    expect(await page.locator("pre.command").textContent()).toMatch(/^sh -c 'mkdir -p out/);
    expect(await page.locator("table.env tr").evaluateAll((trs) => trs.map((tr) => tr.textContent))).toEqual(["PLAIN_VARvisible", "API_TOKEN***"]);
    expect(await page.locator(".secret-env").textContent()).toContain("GD_UI_TEST_SECRET");
    const text = (await page.locator("main").textContent()) ?? "";
    expect(text).not.toContain(TOKEN_VALUE);
    expect(text).not.toContain(SECRET_VALUE);
  });
});

/**
 * The dashboard in a real headless Chromium over a real store: the runs page; a pipeline started
 * while the run page is open, its step changing colour live (server-sent events, no reload); a
 * step's log growing while the job runs, hostile markup and ANSI shown as text; cancel pressed on
 * a running pipeline and the run stopping.
 */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE, gd, json, tempHome, until } from "../unit/cli/cli-helpers.js";
import { hostilePipeline } from "../unit/ui/hostile-pipeline.js";
import { launch, SHOTS, startUiCommand } from "./browser-helpers.js";

const MARKUP = "<script>window.__pwned=3</script>";

describe("gpu-dag ui in Chromium", { timeout: 120_000 }, () => {
  let home: string;
  let browser: Browser;
  let ui: ChildProcess;
  let url: string;
  let page: Page;
  const pipeline = join(EXAMPLE, "pipeline.yaml");
  const start = async (args: string[]) => {
    const started = await gd(home, ["run", ...args, "--remote"]);
    expect(started.code, started.stderr).toBe(0);
    return started.stdout.trim();
  };
  const open = (hash: string) => page.goto(`${url}#${hash}`);
  const fill = (step: string) => page.locator(`g.node[data-step="${step}"] rect`).evaluate((r) => getComputedStyle(r).fill);

  beforeAll(async () => {
    home = await tempHome("gpu-dag-browser-");
    const done = await gd(home, ["run", pipeline, "--json", "--name", "finished-one", "--param", `greeting=${MARKUP}`]);
    expect(done.code, done.stderr).toBe(0);
    ({ url, child: ui } = await startUiCommand(home));
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on("dialog", (d) => void d.dismiss());
    void json;
  });
  afterAll(async () => {
    await browser?.close();
    ui?.kill("SIGINT");
  });

  it("shows the runs page: the runs table, parameters as text", async () => {
    await open("/");
    const row = page.locator("#runs tbody tr", { hasText: "finished-one" });
    await row.waitFor();
    await expect(row.locator(".badge").textContent()).resolves.toBe("succeeded");
    await expect(row.textContent()).resolves.toContain(`greeting=${MARKUP}`);
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator("#runs script").count()).toBe(0);
  });

  it("colours a step live while its run goes on (no reload)", async () => {
    const runId = await start([pipeline, "--param", "sleep=3"]);
    await open(`/run/${runId}`);
    await page.locator('g.node[data-step="prepare"]').waitFor();
    const marker = await page.evaluate(() => ((window as { __samePage?: number }).__samePage = Date.now()));
    await page.locator('g.node[data-step="prepare"][data-status="running"]').waitFor({ timeout: 30_000 });
    const running = await fill("prepare");
    await page.screenshot({ path: join(SHOTS, "run-live.png") });
    await page.locator('g.node[data-step="evaluate"][data-status="succeeded"]').waitFor({ timeout: 60_000 });
    const succeeded = await fill("prepare");
    expect(running).toBe("rgb(74, 144, 226)");
    expect(succeeded).toBe("rgb(76, 175, 80)");
    await expect(page.locator("#run-status").textContent()).resolves.toBe("succeeded");
    expect(await page.evaluate(() => (window as { __samePage?: number }).__samePage)).toBe(marker);
  });

  it("follows a step's log as it grows; markup, ANSI and progress bars shown as text", async () => {
    const runId = await start([await hostilePipeline(home, 12, 0.4)]);
    await open(`/run/${runId}/step/noisy`);
    const log = page.locator("#stdout");
    await until(async () => (((await log.textContent()) ?? "").includes("tick 1") ? true : undefined), 40_000, "first ticks");
    const early = ((await log.textContent()) ?? "").split("\n").length;
    await until(async () => (((await log.textContent()) ?? "").includes("tick 11") ? true : undefined), 40_000, "last tick");
    const text = (await log.textContent()) ?? "";
    expect(text.split("\n").length).toBeGreaterThan(early);
    expect(text).toContain('<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">');
    expect(text).toContain("red text");
    expect(text).not.toContain("\u001b");
    expect(text).toContain("progress 100%");
    expect(text).not.toContain("progress 10%");
    expect(await page.locator("main script, main img").count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.locator("#step-status", { hasText: "succeeded" }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, "step-log.png"), fullPage: true });
  });

  it("stops a running pipeline when Cancel is pressed", async () => {
    const runId = await start([pipeline, "--param", "sleep=60"]);
    await open(`/run/${runId}`);
    await page.locator('g.node[data-step="prepare"][data-status="running"]').waitFor({ timeout: 30_000 });
    await page.locator("#cancel").click();
    await page.locator("#run-status", { hasText: "cancelled" }).waitFor({ timeout: 60_000 });
    await page.locator('g.node[data-step="prepare"][data-status="cancelled"]').waitFor();
    const status = json<{ status: string }>(await gd(home, ["status", runId, "--json"]));
    expect(status.status).toBe("cancelled");
  });
});

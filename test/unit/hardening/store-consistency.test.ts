/**
 * The store stays readable and consistent when two controllers write to it at once (different
 * runs, two processes) and when a writer is SIGKILLed mid-write, several times.
 */
import { describe, expect, it } from "vitest";
import { mulberry32, tempDir, waitFor } from "../helpers.js";
import { sleep, spawnTsx } from "../runner/durable/durable-helpers.js";
import { checkStore } from "./store-check.js";

const WRITER = "test/fixtures/hardening/store-writer.ts";

describe("store consistency", () => {
  it("two controllers on one store at once, each running a 20-step pipeline: both succeed, the store checks clean", async () => {
    const home = await tempDir("gpu-dag-two-controllers-");
    const children = ["alpha", "beta"].map((name) => spawnTsx([WRITER, "pipeline", home, name]));
    const exits = await Promise.all(children.map((c) => c.exited));
    children.forEach((c, i) => expect(exits[i], c.output()).toEqual({ code: 0, signal: null }));
    const runIds = children.map((c) => /done (\S+) succeeded/.exec(c.output())?.[1]);
    expect(runIds.every(Boolean), children.map((c) => c.output()).join("\n")).toBe(true);
    expect(new Set(runIds).size).toBe(2);

    const report = await checkStore(home);
    expect(report.problems).toEqual([]);
    expect(report.runs).toBe(2);
    expect(report.tornJournals).toBe(0);
    expect(report.tempFiles).toEqual([]);
    expect(report.records["tasks"]).toBe(2);
  }, 60_000);

  it("a writer SIGKILLed at random moments, 6 times: every record parses, no temp file is listed, every journal replays", async () => {
    const home = await tempDir("gpu-dag-sigkill-");
    const random = mulberry32(20261121);
    for (let round = 0; round < 6; round++) {
      const child = spawnTsx([WRITER, "hammer", home, String(round)]);
      await waitFor(() => child.output().includes("ready") || child.exitCode !== null, "the writer to start writing", 20_000);
      expect(child.exitCode, child.output()).toBeNull();
      await sleep(20 + Math.floor(random() * 250));
      child.kill("SIGKILL");
      expect(await child.exited).toEqual({ code: null, signal: "SIGKILL" });

      const report = await checkStore(home);
      expect(report.problems, `round ${round}`).toEqual([]);
      expect(report.runs).toBeGreaterThan(round);
    }
    const report = await checkStore(home);
    expect(report.journalEntries).toBeGreaterThan(0);
    expect(report.records["models"]).toBeGreaterThan(0);
  }, 120_000);
});

/**
 * runAfter on the local backend, across two `gpu-dag run` processes sharing a store: the
 * follower's controller waits (journaling why) and submits nothing until its predecessor, found
 * by name, succeeded; a predecessor that fails ends the follower as failed with the reason and no
 * step started; a ref that names no run is refused before anything is recorded.
 */
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FileStore } from "../../../src/store/file-store.js";
import type { JournalEntry } from "../../../src/store/records.js";
import { gd, gdBackground, json, ROOT, tempHome, until } from "../cli/cli-helpers.js";

const AFTER = join(ROOT, "test", "fixtures", "results", "after.yaml");

describe("runAfter across two processes (local backend)", { timeout: 120_000 }, () => {
  let home: string;
  let store: FileStore;
  beforeAll(async () => {
    home = await tempHome("gpu-dag-run-after-");
    store = new FileStore({ home });
  });

  /** Starts `gpu-dag run` in its own process; resolves with its run id once it is recorded. */
  const background = async (args: string[]) => {
    const child = gdBackground(home, ["run", AFTER, ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    // With --json the progress (and the run id) goes to stderr.
    const runId = await until(async () => /^run (\S+):/m.exec(stdout + "\n" + stderr)?.[1], 60_000, "run id");
    return { runId, exited, stdout: () => stdout, stderr: () => stderr };
  };
  const journal = (runId: string): Promise<JournalEntry[]> => store.readJournal(runId);

  it("waits for the named run to succeed, then runs", async () => {
    // The predecessor holds until the test has seen the follower wait (a loaded machine may take seconds to start a CLI).
    const gate = join(home, "gate-first");
    const first = await background(["--name", "first", "--param", `gate=${gate}`]);
    const second = await background(["--name", "second", "--run-after", "first", "--json"]);
    await until(async () => ((await journal(second.runId)).some((e) => e.type === "backend-notice" && e.kind === "run-after") ? true : undefined), 60_000, "the follower waiting");
    expect((await journal(second.runId)).some((e) => e.type === "attempt-planned")).toBe(false);
    writeFileSync(gate, "");
    expect(await second.exited).toBe(0);
    expect(await first.exited).toBe(0);
    const result = json<{ runId: string; status: string }>({ code: 0, stdout: second.stdout(), stderr: "", ms: 0 });
    expect(result).toMatchObject({ runId: second.runId, status: "succeeded" });
    expect((await store.getRun(result.runId)).runAfter).toEqual([first.runId]);
    const predecessorEnd = (await journal(first.runId)).find((e) => e.type === "run-finished")!.at;
    const entries = await journal(result.runId);
    const planned = entries.find((e) => e.type === "attempt-planned")!;
    expect(planned.at).toBeGreaterThanOrEqual(predecessorEnd);
    const notices = entries.filter((e): e is Extract<JournalEntry, { type: "backend-notice" }> => e.type === "backend-notice").map((e) => e.message);
    expect(notices[0]).toBe(`waiting for run ${first.runId} (first) (running) to succeed`);
    expect(notices.at(-1)).toBe(`run after: ${first.runId} succeeded; steps start`);
    expect(second.stderr()).toContain(`waiting  waiting for run ${first.runId} (first) (running) to succeed`);
  });

  it("a predecessor that fails ends the follower as failed, with the reason, before any step", async () => {
    const bad = await background(["--name", "bad", "--param", "sleep=1", "--param", "exit=3"]);
    const follower = await gd(home, ["run", AFTER, "--run-after", "bad"]);
    expect(await bad.exited).toBe(1);
    expect(follower.code).toBe(1);
    const runId = /^run (\S+):/m.exec(follower.stdout)![1]!;
    const status = json<{ status: string; reason: string; steps: Record<string, { status: string }> }>(await gd(home, ["status", runId, "--json"]));
    expect(status.status).toBe("failed");
    expect(status.reason).toBe(`run after ${bad.runId} (bad): it failed; no step of this run was started`);
    expect(status.steps["work"]!.status).toBe("cancelled");
    expect((await journal(runId)).some((e) => e.type === "attempt-planned")).toBe(false);
    expect((await gd(home, ["status", runId])).stdout).toMatch(/^run after: run after \S+ \(bad\): it failed/m);
  });

  it("cancelling a run while it waits ends it cancelled, with what it waited for, before any step", async () => {
    const slow = await background(["--name", "slow", "--param", `gate=${join(home, "gate-never")}`]);
    const follower = await background(["--name", "patient", "--run-after", "slow"]);
    await until(async () => ((await journal(follower.runId)).some((e) => e.type === "backend-notice" && e.kind === "run-after") ? true : undefined), 60_000, "the follower waiting");
    expect((await gd(home, ["cancel", "patient"])).code).toBe(0);
    expect(await follower.exited).toBe(1);
    const status = json<{ status: string; reason: string }>(await gd(home, ["status", follower.runId, "--json"]));
    expect(status).toMatchObject({ status: "cancelled", reason: `cancelled while waiting for ${slow.runId} (slow) (running)` });
    expect((await journal(follower.runId)).some((e) => e.type === "attempt-planned")).toBe(false);
    expect((await gd(home, ["cancel", slow.runId])).code).toBe(0);
    await slow.exited;
  });

  it("a ref that names no run is refused before anything is recorded", async () => {
    const before = readdirSync(join(home, "runs")).length;
    const refused = await gd(home, ["run", AFTER, "--run-after", "nosuch"]);
    expect(refused).toMatchObject({ code: 2, stdout: "", stderr: 'gpu-dag: run "nosuch" not found in the store\n' });
    expect(readdirSync(join(home, "runs"))).toHaveLength(before);
    expect(existsSync(join(home, "runs"))).toBe(true);
  });
});

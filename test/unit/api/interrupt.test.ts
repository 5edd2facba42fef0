/**
 * Ctrl-C in a user's own script that called `executeLocally()`: the run is cancelled (its jobs
 * killed, the cancellation journaled), one line says so on stderr, and the script exits 130
 * once the jobs are gone. A second Ctrl-C leaves at once and names the jobs that may still run.
 * A script with its own SIGINT handler keeps full control.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { FileStore } from "../../../src/store/file-store.js";
import { isAlive, tempDir, waitFor } from "../helpers.js";

const fixture = fileURLToPath(new URL("../../fixtures/leaks/interrupted-script.ts", import.meta.url));

interface Script {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startScript(home: string, markers: string, mode: string): Script {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, home, markers, mode], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** Starts the script and waits until its job runs; returns the job's pid and the run id. */
async function startedScript(mode: string): Promise<Script & { home: string; pid: number; runId: string }> {
  const home = await tempDir("gpu-dag-home-");
  const markers = await tempDir("gpu-dag-markers-");
  const script = startScript(home, markers, mode);
  const pidFile = join(markers, "pid");
  await waitFor(() => existsSync(pidFile) && /^run \S+ started$/m.test(script.stdout()), "the job to start", 20_000);
  const pid = Number(readFileSync(pidFile, "utf8"));
  const runId = /^run (\S+) started$/m.exec(script.stdout())![1]!;
  expect(isAlive(pid)).toBe(true);
  return { ...script, home, pid, runId };
}

function killJob(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

describe("Ctrl-C in a script that called executeLocally()", () => {
  it("cancels the run, says so once, kills its job, journals it, and exits 130", async () => {
    const script = await startedScript("default");
    try {
      script.child.kill("SIGINT");
      const { code } = await script.exit;
      expect(code, script.stderr()).toBe(130);
      const lines = script
        .stderr()
        .split("\n")
        .filter((l) => l.startsWith("gpu-dag:"));
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^gpu-dag: interrupted — cancelling run ${script.runId} \\(1 job\\)…`))]);
      expect(isAlive(script.pid)).toBe(false);
      // The script never saw a result: it was interrupted.
      expect(script.stdout()).not.toMatch(/^result /m);
      const store = new FileStore({ home: script.home });
      const journal = await store.readJournal(script.runId);
      expect(journal.find((e) => e.type === "attempt-finished" && e.step === "long")).toMatchObject({ status: "cancelled" });
      expect(journal.at(-1)).toMatchObject({ type: "run-finished", status: "cancelled" });
      await store.close();
    } finally {
      killJob(script.pid);
      script.child.kill("SIGKILL");
    }
  }, 60_000);

  it("SIGTERM does the same and exits 143", async () => {
    const script = await startedScript("default");
    try {
      script.child.kill("SIGTERM");
      const { code } = await script.exit;
      expect(code, script.stderr()).toBe(143);
      expect(script.stderr()).toMatch(new RegExp(`gpu-dag: terminated — cancelling run ${script.runId} \\(1 job\\)…`));
      expect(isAlive(script.pid)).toBe(false);
    } finally {
      killJob(script.pid);
      script.child.kill("SIGKILL");
    }
  }, 60_000);

  it("a second Ctrl-C exits at once and names the jobs that may still run", async () => {
    const script = await startedScript("stubborn"); // its job ignores SIGTERM: cancelling takes the kill grace
    try {
      script.child.kill("SIGINT");
      await waitFor(() => script.stderr().includes("gpu-dag: interrupted"), "the first interrupt's line");
      script.child.kill("SIGINT");
      const { code } = await script.exit;
      expect(code, script.stderr()).toBe(130);
      expect(script.stderr()).toMatch(new RegExp(`gpu-dag: interrupted again — leaving now; may still run: run ${script.runId}: job gd-${script.runId}-long-a1`));
      expect(script.stderr()).toContain(`gpu-dag resume ${script.runId}`);
    } finally {
      killJob(script.pid);
      script.child.kill("SIGKILL");
    }
  }, 60_000);

  it("a script with its own SIGINT handler keeps control: no word from gpu-dag, its signal cancels the run", async () => {
    const script = await startedScript("own-handler");
    try {
      script.child.kill("SIGINT");
      const { code } = await script.exit;
      expect(code, script.stderr()).toBe(0);
      expect(script.stderr()).not.toContain("gpu-dag:");
      expect(script.stdout()).toMatch(new RegExp(`^result ${script.runId} cancelled$`, "m"));
      expect(isAlive(script.pid)).toBe(false);
    } finally {
      killJob(script.pid);
      script.child.kill("SIGKILL");
    }
  }, 60_000);
});

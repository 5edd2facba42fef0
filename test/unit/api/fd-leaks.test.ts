/**
 * Nothing a run opens outlives it: 500 runs in one long-lived process under a limit of 64 open
 * files keep a flat fd count, and Node never has to close a forgotten file descriptor on garbage
 * collection. The limit is set with `prlimit` once the fixture has loaded its modules (the module
 * loader alone opens dozens of files at once under tsx); the fixture reports the limit it ran under.
 */
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.js";

const fixture = fileURLToPath(new URL("../../fixtures/leaks/many-runs.ts", import.meta.url));

function runFixture(home: string, runs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", fixture, home, String(runs)], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      const wasReady = stdout.includes("ready\n");
      stdout += d.toString();
      if (!wasReady && stdout.includes("ready\n")) {
        try {
          execFileSync("prlimit", ["--pid", String(child.pid), "--nofile=64:64"]);
          child.stdin.write("go\n");
        } catch (error) {
          child.kill();
          reject(error);
        }
      }
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("file descriptors", () => {
  it("500 runs in one process with at most 64 open files: flat fd count, no fd closed on garbage collection", async () => {
    const home = await tempDir("gpu-dag-leaks-");
    const { code, stdout, stderr } = await runFixture(home, 500);
    expect(stdout).toMatch(/^limit 64$/m);
    const counts = [...stdout.matchAll(/^fds (\d+) (\d+)$/gm)].map((m) => ({ runs: Number(m[1]), fds: Number(m[2]) }));
    const gcWarnings = stderr.match(/closing file descriptor \d+ on garbage collection/gi) ?? [];
    expect(gcWarnings, stderr.slice(-1500)).toEqual([]);
    expect(code, stderr.slice(-1500)).toBe(0);
    expect(counts.map((c) => c.runs)).toEqual([0, 50, 100, 150, 200, 250, 300, 350, 400, 450, 500]);
    const first = counts[1]!.fds; // after the first 50: lazily loaded modules and pools are open by then
    const last = counts.at(-1)!.fds;
    expect(last, `fd counts: ${counts.map((c) => `${c.runs}:${c.fds}`).join(" ")}`).toBeLessThanOrEqual(first + 2);
    expect(stdout).toContain("done");
  }, 120_000);
});

/**
 * Nothing a run opens outlives it: 500 runs in one long-lived process under `ulimit -n 64` keep
 * a flat fd count, and Node never has to close a forgotten file descriptor on garbage collection.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.js";

const fixture = fileURLToPath(new URL("../../fixtures/leaks/many-runs.ts", import.meta.url));

function runFixture(home: string, runs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const command = `ulimit -n 64; exec "$0" --expose-gc --import tsx "$1" "$2" "$3"`;
    const child = spawn("sh", ["-c", command, process.execPath, fixture, home, String(runs)], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("file descriptors", () => {
  it("500 runs in one process under ulimit -n 64: flat fd count, no fd closed on garbage collection", async () => {
    const home = await tempDir("gpu-dag-leaks-");
    const { code, stdout, stderr } = await runFixture(home, 500);
    const counts = [...stdout.matchAll(/^fds (\d+) (\d+)$/gm)].map((m) => ({ runs: Number(m[1]), fds: Number(m[2]) }));
    expect(stderr).not.toMatch(/closing file descriptor .* on garbage collection/i);
    expect({ code, stderr: stderr.slice(-2000) }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(counts.map((c) => c.runs)).toEqual([0, 50, 100, 150, 200, 250, 300, 350, 400, 450, 500]);
    const first = counts[1]!.fds; // after the first 50: lazily loaded modules and pools are open by then
    const last = counts.at(-1)!.fds;
    expect(last, `fd counts: ${counts.map((c) => `${c.runs}:${c.fds}`).join(" ")}`).toBeLessThanOrEqual(first + 2);
    expect(stdout).toContain("done");
  }, 120_000);
});

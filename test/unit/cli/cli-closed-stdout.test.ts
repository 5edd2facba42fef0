/**
 * `gpu-dag run … | head`: the reader leaves after the first line while the run goes on. The
 * controller must not die of EPIPE; the run ends succeeded in the store.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, EXAMPLE, gd, json, ROOT, tempHome } from "./cli-helpers.js";

describe("gpu-dag run with a closed stdout", { timeout: 120_000 }, () => {
  it("keeps running when the reader of stdout goes away (| head -1)", async () => {
    const home = await tempHome();
    // sh -c '… | head -1': a real pipe whose reader exits after one line, as a user's shell makes it.
    const child = spawn("sh", ["-c", `"$0" "$@" | head -n 1`, process.execPath, BIN, "--home", home, "run", join(EXAMPLE, "pipeline.yaml"), "--param", "sleep=2"], {
      cwd: ROOT,
      env: { ...process.env, GPU_DAG_CLI_SOURCE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    await new Promise((resolve) => child.on("close", resolve));
    expect(stdout.split("\n").filter(Boolean)).toHaveLength(1);
    expect(stderr).not.toMatch(/EPIPE|unexpected error/);
    const runs = json<{ runs: Array<{ runId: string; status: string }> }>(await gd(home, ["runs", "--json"])).runs;
    expect(runs.map((r) => r.status)).toEqual(["succeeded"]);
  });
});

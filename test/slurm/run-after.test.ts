/**
 * runAfter on the real Slurm: two `gpu-dag run` processes sharing a store, both driving their
 * jobs on the test cluster over SSH. The follower's controller waits (its first sbatch comes after
 * the predecessor's run ended); a predecessor whose Slurm job fails ends the follower as failed,
 * with the reason, and no job of its own is submitted. (The controller waits in both cases: the
 * Slurm `afterok` dependency form is not built.)
 */
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileStore, type JournalEntry } from "../../src/index.js";
import { gd, gdBackground, json, ROOT, until } from "../unit/cli/cli-helpers.js";
import { pipelineClusterConfig, slurmTestEnv } from "./slurm-test-env.js";

const env = slurmTestEnv();
const AFTER = join(ROOT, "test", "fixtures", "results", "after.yaml");

describe("runAfter across two processes on the real Slurm", { timeout: 240_000 }, () => {
  let home: string;
  let cluster: string;
  let store: FileStore;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "gd-run-after-slurm-"));
    store = new FileStore({ home });
    const config = pipelineClusterConfig(env);
    cluster = join(home, "slurm.yaml");
    // JSON is YAML: the test cluster with a CPU queue for the fixture's steps.
    writeFileSync(cluster, JSON.stringify({ ...config, queues: { ...config.queues, cpu: { partition: env.partitions.cpu, cpus: 1, nodes: 1, extraSbatch: [] } } }));
  });
  afterAll(async () => {
    await store.close();
    await rm(home, { recursive: true, force: true });
  });

  /** Starts `gpu-dag run` on the cluster in its own process; resolves with its run id once it is recorded. */
  const background = async (args: string[]) => {
    const child = gdBackground(home, ["run", AFTER, "--cluster", cluster, ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    const runId = await until(async () => /^run (\S+):/m.exec(stdout + "\n" + stderr)?.[1], 60_000, "run id");
    return { runId, exited, stdout: () => stdout };
  };
  const entries = (runId: string): Promise<JournalEntry[]> => store.readJournal(runId);

  it("the follower's first sbatch comes after its predecessor's run ended", async () => {
    // The predecessor's job holds until the test has seen the follower wait. The gate lies in /tmp
    // itself: the job runs as the cluster's user, who cannot enter this test's private temp dirs.
    const gate = join(tmpdir(), `gd-run-after-gate-${randomBytes(4).toString("hex")}`);
    try {
      const first = await background(["--name", "slurm-first", "--param", `gate=${gate}`]);
      const follower = await background(["--run-after", "slurm-first", "--json"]);
      await until(
        async () => ((await entries(follower.runId)).some((e) => e.type === "backend-notice" && e.kind === "run-after" && e.message.includes("(slurm-first) (running)")) ? true : undefined),
        120_000,
        "the follower waiting",
      );
      writeFileSync(gate, "");
      expect(await follower.exited).toBe(0);
      expect(await first.exited).toBe(0);
      const result = json<{ runId: string; steps: Record<string, { jobId: string }> }>({ code: 0, stdout: follower.stdout(), stderr: "", ms: 0 });
      expect(result.steps["work"]!.jobId).toMatch(/^\d+$/); // a Slurm job
      const ended = (await entries(first.runId)).find((e) => e.type === "run-finished")!.at;
      const submitted = (await entries(result.runId)).find((e) => e.type === "job-submitted")!.at;
      expect(submitted).toBeGreaterThanOrEqual(ended);
    } finally {
      rmSync(gate, { force: true });
    }
  });

  it("a predecessor whose Slurm job fails ends the follower before it submits anything", async () => {
    const bad = await background(["--name", "slurm-bad", "--param", "sleep=2", "--param", "exit=3"]);
    const follower = await gd(home, ["run", AFTER, "--cluster", cluster, "--run-after", "slurm-bad", "--json"], { timeoutMs: 180_000 });
    expect(await bad.exited).toBe(1);
    expect(follower.code).toBe(1);
    const result = json<{ runId: string; status: string; reason: string }>(follower);
    expect(result).toMatchObject({ status: "failed", reason: `run after ${bad.runId} (slurm-bad): it failed; no step of this run was started` });
    expect((await entries(result.runId)).some((e) => e.type === "job-submitted")).toBe(false);
  });
});

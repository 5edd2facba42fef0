/**
 * `executeRemotely()` with a Slurm cluster: the controller runs as a job on the services
 * partition (Node on the cluster, the controller shipped as one file). The launching script exits
 * at once; `Pipeline.attach(runId).wait()` follows the run to its end by mirroring its journal.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type ClusterConfig, Pipeline } from "../../src/index.js";
import { pipelineClusterConfig, slurmTestEnv } from "./slurm-test-env.js";

const env = slurmTestEnv();
const REPO = resolve(import.meta.dirname, "../..");

function clusterConfig(): ClusterConfig {
  return pipelineClusterConfig(env, { GPU_DAG_SIMULATE_SECONDS: "1" });
}

describe("executeRemotely() on Slurm: controller on the services partition", () => {
  const homes: string[] = [];
  afterAll(async () => {
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });

  it("returns at once from a script that exits; wait() follows the run to success", async () => {
    const home = await mkdtemp(join(tmpdir(), "gd-remote-"));
    homes.push(home);
    const started = Date.now();
    const runId = execFileSync(process.execPath, ["--import", "tsx", "test/fixtures/remote-launch.ts", home, JSON.stringify(clusterConfig())], { cwd: REPO, encoding: "utf8" }).trim();
    const launchSeconds = (Date.now() - started) / 1000;
    expect(runId).toMatch(/^\d{8}-\d{6}-[0-9a-f]{6}$/);

    // The controller is a job in the services (cpu) partition.
    const handle = Pipeline.attach(runId, { home });
    const result = await handle.wait({ timeoutMs: 120_000, pollMs: 500 });
    expect(result.status, JSON.stringify(result.steps, null, 2)).toBe("succeeded");
    expect(Object.values(result.steps).map((s) => s.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    for (const step of Object.values(result.steps)) expect(step.jobId).toMatch(/^\d+$/);
    expect(result.metrics["eval_a"]).toBeDefined();
    // The launch returned well before the run ended (three 1 s jobs in a chain of two).
    expect(launchSeconds).toBeLessThan((result.endedAt - started) / 1000);
    const info = JSON.parse(readFileSync(join(home, "runs", runId, "remote.json"), "utf8")) as { jobId: string };
    const controllerJob = execFileSync("scontrol", ["show", "job", "-o", info.jobId], { encoding: "utf8" });
    expect(controllerJob).toContain(`Partition=${env.partitions.cpu}`);
    expect(controllerJob).toContain("JobState=COMPLETED");
  });

  it("through the CLI: run --remote on the Slurm cluster, then wait and status follow it", async () => {
    const home = await mkdtemp(join(tmpdir(), "gd-remote-cli-"));
    homes.push(home);
    const configFile = join(home, "test-slurm.yaml");
    writeFileSync(configFile, stringify(clusterConfig()));
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ["bin/gpu-dag.js", "--home", home, ...args], { cwd: REPO, encoding: "utf8", env: { ...process.env, GPU_DAG_CLI_SOURCE: "1" }, timeout: 180_000 });
    const launched = cli("run", "examples/pipeline-yaml/seed.yaml", "--cluster", configFile, "--simulate", "--remote");
    expect(launched.status, launched.stderr).toBe(0);
    const runId = launched.stdout.trim();
    // The controller is a job on the services (cpu) partition, as with executeRemotely(), not a process here.
    const info = JSON.parse(readFileSync(join(home, "runs", runId, "remote.json"), "utf8")) as { jobId: string };
    expect(execFileSync("scontrol", ["show", "job", "-o", info.jobId], { encoding: "utf8" })).toContain(`Partition=${env.partitions.cpu}`);
    const waited = cli("wait", runId, "--timeout", "150");
    expect(waited.status, waited.stdout + waited.stderr).toBe(0);
    const status = cli("status", runId, "--json");
    expect(status.status, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout) as { status: string; mode: string; steps: Record<string, { status: string; jobId?: string }> };
    expect(parsed.status).toBe("succeeded");
    expect(Object.values(parsed.steps).map((s) => s.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    for (const step of Object.values(parsed.steps)) expect(step.jobId).toMatch(/^\d+$/);
  });
});

/**
 * One controller per run, wherever it runs, on the real test Slurm: a run whose controller is a
 * job on the services partition (`executeRemotely()`) is never driven by a second controller.
 *
 * - resume while the cluster-side controller is alive is refused (API, CLI, `resume --remote`);
 * - `scancel` of the controller job, then a local resume takes the run over: every job ran once,
 *   no history is lost to the cluster's shorter journal, and the old controller started again on
 *   the cluster refuses to run;
 * - kill -9 of the controller job, then `resume --remote` submits a new controller job that
 *   adopts the running jobs.
 *
 * Each asserts from job-side markers (every job appends its Slurm job name to a file named after
 * its step) that every job ran exactly once, and from Slurm's own history that no job name was
 * submitted twice.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { driveRun } from "../../src/api/drive-run.js";
import { Pipeline } from "../../src/api/pipeline.js";
import type { RunHandle } from "../../src/api/run-handle.js";
import { RunLockedError } from "../../src/errors.js";
import type { ClusterConfig } from "../../src/index.js";
import { replayJournal } from "../../src/runner/replay.js";
import { FileStore } from "../../src/store/file-store.js";
import { Task } from "../../src/tasks/custom-task.js";
import { tempDir } from "../unit/helpers.js";
import { allMarkers, sleep } from "../unit/runner/durable/durable-helpers.js";
import { pipelineClusterConfig, slurmTestEnv } from "./slurm-test-env.js";

const env = slurmTestEnv();
const REPO = resolve(import.meta.dirname, "../..");
const STEPS = ["a", "b", "c", "d"] as const;

/** Appends the Slurm job name to `<markers>/<step>`: a job that ran twice leaves two lines. */
const STEP_SCRIPT = `
markers=$1; step=$2; secs=$3
echo "$SLURM_JOB_NAME $SLURM_JOB_ID" >> "$markers/$step"
sleep "$secs"
echo "$step" > "$GPU_DAG_OUTPUT_DIR/result.txt"
printf '{"artifacts":[{"name":"result","path":"result.txt"}],"metrics":{"ran":1} }' > "$GPU_DAG_OUTPUT_DIR/outputs.json"
`;

function clusterConfig(): ClusterConfig {
  const config = pipelineClusterConfig(env);
  if (config.executor !== "slurm") throw new Error("expected a slurm config");
  return { ...config, queues: { ...config.queues, cpu: { partition: env.partitions.cpu, cpus: 1, nodes: 1, extraSbatch: [] } } };
}

/** Starts a → (b, c) → d (each step `secs` long) with its controller on the cluster. */
async function startRemoteRun(label: string, secs: number) {
  const markers = join(env.jobDir, `markers-${label}-${randomBytes(4).toString("hex")}`);
  mkdirSync(markers, { recursive: true });
  execFileSync("chown", [`${env.user}:${env.user}`, markers]);
  const home = await tempDir(`gpu-dag-one-controller-${label}-`);
  const store = new FileStore({ home });
  const task = new Task({ projectName: "one-controller", taskName: "marker", command: ["sh", "-c", STEP_SCRIPT, "job", "{markers}", "{step}", "{secs}"], parameters: { markers, step: "none", secs } });
  await task.createTask({ store });
  const pipeline = new Pipeline({ projectName: "one-controller", pipelineName: label, defaults: { executionQueue: "cpu" } });
  const parents: Record<string, string[]> = { a: [], b: ["a"], c: ["a"], d: ["b", "c"] };
  for (const step of STEPS) pipeline.addStep({ name: step, baseTaskId: task.id!, parents: parents[step]!, parameterOverride: { step } });
  const handle = await pipeline.executeRemotely({ store, home, cluster: clusterConfig(), runId: `oc-${label}-${randomBytes(3).toString("hex")}` });
  return { home, store, markers, handle, runId: handle.runId };
}

/** The controller job id recorded for a remote run. */
function controllerJobId(home: string, runId: string): string {
  return (JSON.parse(readFileSync(join(home, "runs", runId, "remote.json"), "utf8")) as { jobId: string }).jobId;
}

function jobState(jobId: string): string {
  return execFileSync("squeue", ["-h", "-t", "all", "-j", jobId, "-o", "%T"], { encoding: "utf8" }).trim();
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(300);
  }
}

/** Waits until the mirrored journal shows `step` running on the cluster. */
async function stepRunning(handle: RunHandle, steps: readonly string[]): Promise<void> {
  await until(`steps ${steps.join(", ")} running`, async () => {
    const status = await handle.status();
    return steps.every((s) => status.steps[s]?.status === "running") ? true : undefined;
  });
}

/** Job names of the run Slurm ever saw (squeue keeps finished jobs for MinJobAge, sacct -c the rest). */
function submittedNames(runId: string): string[] {
  const squeue = execFileSync("squeue", ["-h", "-t", "all", "-o", "%i %j"], { encoding: "utf8" });
  const sacct = spawnSync("sacct", ["-c", "-n", "-P", "-o", "JobID,JobName%200"], { encoding: "utf8" }).stdout ?? "";
  const byId = new Map<string, string>();
  for (const line of squeue.split("\n")) {
    const [id, name] = line.trim().split(" ");
    if (id && name) byId.set(id, name);
  }
  for (const line of sacct.split("\n")) {
    const [id, name] = line.trim().split("|");
    if (id && name && !id.includes(".")) byId.set(id, name);
  }
  return [...byId.values()].filter((n) => n.startsWith(`gd-${runId}-`));
}

/** Every job ran once (one marker line per job name), each step succeeded once, no name submitted twice. */
async function expectEachJobOnce(runId: string, markers: string, store: FileStore): Promise<void> {
  const files = await allMarkers(markers);
  expect([...files.keys()]).toEqual([...STEPS]);
  const names = [...files.values()].flat().map((l) => l.split(" ")[0]!);
  expect(names.length, JSON.stringify([...files])).toBe(new Set(names).size);
  const replay = replayJournal(await store.readJournal(runId), [...STEPS]);
  for (const step of STEPS) {
    expect(
      replay.steps.get(step)!.attempts.filter((a) => a.status === "succeeded"),
      step,
    ).toHaveLength(1);
  }
  const submitted = submittedNames(runId);
  const counts = new Map<string, number>();
  for (const name of submitted) counts.set(name, (counts.get(name) ?? 0) + 1);
  expect(
    [...counts].filter(([, c]) => c > 1),
    JSON.stringify([...counts]),
  ).toEqual([]);
  // Every job that left a marker was submitted under its own name.
  for (const name of names) expect(submitted).toContain(name);
}

function cli(home: string, ...args: string[]) {
  return spawnSync(process.execPath, ["bin/gpu-dag.js", "--home", home, ...args], { cwd: REPO, encoding: "utf8", env: { ...process.env, GPU_DAG_CLI_SOURCE: "1" }, timeout: 180_000 });
}

describe("one controller per run, with the controller on the cluster", () => {
  const cleanup: string[] = [];
  afterAll(() => {
    for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
  });

  it("resume while the cluster-side controller is alive is refused (API, CLI, --remote); the run ends with each job run once", { timeout: 240_000 }, async () => {
    const { home, store, markers, handle, runId } = await startRemoteRun("alive", 6);
    cleanup.push(home, markers);
    await stepRunning(handle, ["a"]);
    const jobId = controllerJobId(home, runId);

    const refused = await driveRun(runId, { store, home, resume: true }).then(
      (r) => r,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(RunLockedError);
    expect(String((refused as Error).message)).toMatch(new RegExp(`run ${runId} is being driven by controller job ${jobId} on cluster .+ \\((RUNNING|PENDING)\\); use gpu-dag watch/cancel`));

    const viaCli = cli(home, "resume", runId);
    expect(viaCli.status, viaCli.stdout + viaCli.stderr).toBe(2);
    expect(viaCli.stderr).toContain(`controller job ${jobId}`);
    const viaRemote = cli(home, "resume", runId, "--remote");
    expect(viaRemote.status, viaRemote.stdout + viaRemote.stderr).toBe(2);
    expect(viaRemote.stderr).toContain(`controller job ${jobId}`);
    expect(controllerJobId(home, runId)).toBe(jobId);

    const result = await handle.wait({ timeoutMs: 180_000, pollMs: 500 });
    expect(result.status, JSON.stringify(result.steps)).toBe("succeeded");
    await expectEachJobOnce(runId, markers, store);
    await store.close();
  });

  it("scancel of the controller job, then a local resume takes over: each job once, history kept by status, the old controller refuses to run again", { timeout: 300_000 }, async () => {
    const { home, store, markers, handle, runId } = await startRemoteRun("scancel", 5);
    cleanup.push(home, markers);
    await stepRunning(handle, ["b", "c"]);
    const jobId = controllerJobId(home, runId);
    execFileSync("scancel", [jobId]);
    await until("controller job to end", () => (["PENDING", "RUNNING", "COMPLETING", "CONFIGURING"].includes(jobState(jobId)) ? undefined : true));

    const result = await driveRun(runId, { store, home, resume: true, retryBackoffMs: 100 });
    expect(result.status, JSON.stringify(result.steps)).toBe("succeeded");
    const journalLength = (await store.readJournal(runId)).length;

    // The run is no longer remote: status reads the local journal and keeps every entry.
    expect(existsSync(join(home, "runs", runId, "remote.json"))).toBe(false);
    expect((await handle.status()).status).toBe("succeeded");
    const status = cli(home, "status", runId, "--json");
    expect(status.status, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { status: string }).status).toBe("succeeded");
    expect((await store.readJournal(runId)).length).toBe(journalLength);

    // The old controller started again on the cluster (its batch script resubmitted) must not run.
    const script = join(env.jobDir, runId, "_controller", "a1", "job.sbatch");
    const again = execFileSync("su", [env.user, "-s", "/bin/sh", "-c", `sbatch --parsable --job-name=gd-${runId}-oldcontroller ${script}`], { encoding: "utf8" }).trim();
    await until("old controller to end", () => (["PENDING", "RUNNING", "COMPLETING", "CONFIGURING"].includes(jobState(again)) ? undefined : true));
    const log = readFileSync(join(env.jobDir, runId, "_controller", "a1", "stderr.log"), "utf8");
    expect(log).toMatch(/was taken over by a local controller on .*; this controller job does not own it and will not run/);
    expect(readFileSync(join(env.jobDir, runId, "_controller", "a1", "exit_code"), "utf8").trim()).toBe("3");
    expect(jobState(again)).toBe("FAILED");

    await expectEachJobOnce(runId, markers, store);
    expect((await store.readJournal(runId)).length).toBe(journalLength);
    await store.close();
  });

  it("cancel of a run whose controller job is alive goes to that job (scancel), not around it: the controller job ends and journals the run cancelled", { timeout: 240_000 }, async () => {
    const { home, store, markers, handle, runId } = await startRemoteRun("cancel", 40);
    cleanup.push(home, markers);
    await stepRunning(handle, ["a"]);
    const jobId = controllerJobId(home, runId);
    const cancelled = cli(home, "cancel", runId);
    expect(cancelled.status, cancelled.stdout + cancelled.stderr).toBe(0);
    await until("controller job to end", () => (["PENDING", "RUNNING", "COMPLETING", "CONFIGURING"].includes(jobState(jobId)) ? undefined : true));
    const status = cli(home, "status", runId, "--json");
    expect((JSON.parse(status.stdout) as { status: string }).status).toBe("cancelled");
    // The cancelled run was journaled by its controller job and mirrored here, not written around it.
    const replay = replayJournal(await store.readJournal(runId), [...STEPS]);
    expect(replay.status).toBe("cancelled");
    expect(replay.steps.get("a")!.attempts.at(-1)!.status).toBe("cancelled");
    expect(execFileSync("squeue", ["-h", "-o", "%j"], { encoding: "utf8" })).not.toContain(`gd-${runId}-`);
    await store.close();
  });

  it("kill -9 of the controller job, then resume --remote submits a new controller job that adopts the running jobs; a local resume meanwhile is refused", { timeout: 300_000 }, async () => {
    const { home, store, markers, handle, runId } = await startRemoteRun("kill", 8);
    cleanup.push(home, markers);
    const configFile = join(home, "cluster.yaml");
    writeFileSync(configFile, stringify(clusterConfig()));
    await stepRunning(handle, ["b", "c"]);
    const first = controllerJobId(home, runId);
    execFileSync("scancel", ["--full", "--signal=KILL", first]);
    await until("controller job to end", () => (["PENDING", "RUNNING", "COMPLETING", "CONFIGURING"].includes(jobState(first)) ? undefined : true));

    const resumed = cli(home, "resume", runId, "--remote");
    expect(resumed.status, resumed.stdout + resumed.stderr).toBe(0);
    const second = controllerJobId(home, runId);
    expect(second).not.toBe(first);
    expect(execFileSync("scontrol", ["show", "job", "-o", second], { encoding: "utf8" })).toContain(`Partition=${env.partitions.cpu}`);

    const refused = cli(home, "resume", runId);
    expect(refused.status, refused.stdout + refused.stderr).toBe(2);
    expect(refused.stderr).toContain(`controller job ${second}`);

    const waited = cli(home, "wait", runId, "--timeout", "200");
    expect(waited.status, waited.stdout + waited.stderr).toBe(0);
    const replay = replayJournal(await store.readJournal(runId), [...STEPS]);
    expect(replay.controllerStarts).toBe(2);
    await expectEachJobOnce(runId, markers, store);
    await store.close();
  });
});

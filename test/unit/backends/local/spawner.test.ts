/**
 * The local backend's spawner (src/backends/local/spawner.ts): jobs are its children, not the
 * controller's; killing it (SIGKILL) while jobs run or while starts are in flight loses no job
 * and runs none twice; without a usable python3 the backend forks jobs itself.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalBackend } from "../../../../src/backends/local/local-backend.js";
import { isTerminal, type JobSpec, type JobState } from "../../../../src/backends/queue-backend.js";
import { tempDir, waitFor } from "../../helpers.js";

function spec(root: string, step: string, argv: string[], timeLimitSeconds?: number): JobSpec {
  const attemptDir = join(root, step);
  mkdirSync(attemptDir, { recursive: true });
  const resources = { gpus: 0, nodes: 1, ...(timeLimitSeconds !== undefined ? { timeLimitSeconds } : {}) };
  return { jobName: `gd-spawner-${step}-a1`, runId: "spawner", step, attempt: 1, queue: "q", resources, argv, env: {}, secretEnv: {}, attemptDir, priority: 0 };
}

/** A job that appends a line to `<root>/<step>.ran` each time it really runs, then sleeps. */
function marked(root: string, step: string, secs: number): JobSpec {
  return spec(root, step, ["sh", "-c", `echo "$$" >> "$1"; sleep ${secs}`, "job", join(root, `${step}.ran`)]);
}

function watch(backend: LocalBackend): Map<string, JobState> {
  const states = new Map<string, JobState>();
  backend.onUpdate((id, state) => states.set(id, state));
  return states;
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

function recordedPid(dir: string): number {
  return (JSON.parse(readFileSync(join(dir, "job.json"), "utf8")) as { pid: number }).pid;
}

function ranLines(root: string, step: string): number {
  try {
    return readFileSync(join(root, `${step}.ran`), "utf8")
      .trim()
      .split("\n").length;
  } catch {
    return 0;
  }
}

describe("LocalBackend's spawner", () => {
  it("starts jobs as its children (not this process's) and records their pid in job.json", async () => {
    const root = await tempDir();
    const backend = new LocalBackend({ gpus: 0 });
    expect(backend.usesSpawner).toBe(true);
    const states = watch(backend);
    const [job] = await backend.submit([spec(root, "child", ["sleep", "1"])]);
    const id = job!.backendJobId;
    await waitFor(() => states.get(id)?.status === "running", "the job to run");
    const pid = recordedPid(join(root, "child"));
    expect(parentOf(pid)).toBe(backend.spawnerPid);
    expect(parentOf(pid)).not.toBe(process.pid);
    await waitFor(() => states.get(id)?.status === "succeeded", "the job to end");
    await backend.close();
  });

  it("SIGKILLed while a job runs: the job runs on, once, and its end is still reported; the next job gets a new spawner", async () => {
    const root = await tempDir();
    const backend = new LocalBackend({ gpus: 0 });
    const states = watch(backend);
    const [job] = await backend.submit([spec(root, "survivor", ["sh", "-c", 'echo "$$" >> ran; sleep 1; exit 3'])]);
    const id = job!.backendJobId;
    await waitFor(() => states.get(id)?.status === "running", "the job to run");
    const first = backend.spawnerPid!;
    process.kill(first, "SIGKILL");
    await waitFor(() => states.has(id) && isTerminal(states.get(id)!), "the job's end", 10_000);
    // Its own exit code, read from its exit-code marker: not "lost".
    expect(states.get(id)).toMatchObject({ status: "failed", exitCode: 3, infrastructure: false });
    expect(
      readFileSync(join(root, "survivor", "ran"), "utf8")
        .trim()
        .split("\n"),
    ).toHaveLength(1);
    const [next] = await backend.submit([spec(root, "next", ["true"])]);
    await waitFor(() => states.get(next!.backendJobId)?.status === "succeeded", "the next job");
    expect(backend.spawnerPid).not.toBe(first);
    await backend.close();
  });

  it("SIGKILLed with starts in flight: each of 12 jobs runs exactly once and succeeds", async () => {
    const root = await tempDir();
    const backend = new LocalBackend({ gpus: 0 });
    const states = watch(backend);
    // A spawner that is up (it said "ready"): its death is an orphaning, not a failed start.
    const [warm] = await backend.submit([spec(root, "warm", ["true"])]);
    await waitFor(() => states.get(warm!.backendJobId)?.status === "succeeded", "the first job");
    const specs = Array.from({ length: 12 }, (_, i) => marked(root, `j${i}`, 0.3));
    const submitted = await backend.submit(specs);
    // Right after the requests went out, before (most of) the answers came back.
    process.kill(backend.spawnerPid!, "SIGKILL");
    await waitFor(() => submitted.every((j) => states.has(j.backendJobId) && isTerminal(states.get(j.backendJobId)!)), "every job to end", 20_000);
    for (const j of submitted) expect(states.get(j.backendJobId)?.status, `${j.backendJobId}: ${JSON.stringify(states.get(j.backendJobId))}`).toBe("succeeded");
    for (let i = 0; i < 12; i++) expect(ranLines(root, `j${i}`), `j${i}`).toBe(1);
    expect(backend.usesSpawner).toBe(true); // restarted: the kill was not taken for a missing python3
    await backend.close();
  });

  it("keeps a job's time limit after the spawner died", async () => {
    const root = await tempDir();
    const backend = new LocalBackend({ gpus: 0, killGraceSeconds: 1 });
    const states = watch(backend);
    const [job] = await backend.submit([spec(root, "limited", ["sleep", "30"], 1)]);
    const id = job!.backendJobId;
    await waitFor(() => states.get(id)?.status === "running", "the job to run");
    process.kill(backend.spawnerPid!, "SIGKILL");
    await waitFor(() => states.has(id) && isTerminal(states.get(id)!), "the time limit", 10_000);
    expect(states.get(id)).toMatchObject({ status: "failed", infrastructure: false });
    expect((states.get(id) as { reason: string }).reason).toMatch(/time limit/);
    await backend.close();
  });

  it('spawner: "direct" forks jobs from this process', async () => {
    const root = await tempDir();
    const backend = new LocalBackend({ gpus: 0, spawner: "direct" });
    expect(backend.usesSpawner).toBe(false);
    const states = watch(backend);
    const [job] = await backend.submit([spec(root, "direct", ["sleep", "0.5"])]);
    await waitFor(() => states.get(job!.backendJobId)?.status === "running", "the job to run");
    expect(parentOf(recordedPid(join(root, "direct")))).toBe(process.pid);
    await waitFor(() => states.get(job!.backendJobId)?.status === "succeeded", "the job to end");
    await backend.close();
  });

  it("a python3 that cannot run the spawner (too old): jobs are forked directly and run once", async () => {
    const root = await tempDir();
    const bin = join(root, "bin");
    mkdirSync(bin);
    // What an old interpreter does with the spawner's program: refuses it before starting anything.
    writeFileSync(join(bin, "python3"), '#!/bin/sh\necho "Python 2.7: SyntaxError" >&2\nexit 1\n');
    chmodSync(join(bin, "python3"), 0o755);
    const savedPath = process.env["PATH"];
    process.env["PATH"] = `${bin}:${savedPath}`;
    try {
      const backend = new LocalBackend({ gpus: 0 });
      expect(backend.usesSpawner).toBe(true); // it only learns at the first job
      const states = watch(backend);
      const jobs = await backend.submit([marked(root, "a", 0), marked(root, "b", 0)]);
      await waitFor(() => jobs.every((j) => states.get(j.backendJobId)?.status === "succeeded"), "both jobs");
      expect(backend.usesSpawner).toBe(false);
      expect([ranLines(root, "a"), ranLines(root, "b")]).toEqual([1, 1]);
      await backend.close();
    } finally {
      process.env["PATH"] = savedPath;
    }
  });
});

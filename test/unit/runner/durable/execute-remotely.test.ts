/**
 * `executeRemotely()` on this machine: a script that exits at once leaves a detached controller
 * driving the run; `Pipeline.attach(runId)` follows it to success. The run lock keeps a second
 * controller off a live run and lets one take over a dead controller's.
 */
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRun } from "../../../../src/api/create-run.js";
import { driveRun } from "../../../../src/api/drive-run.js";
import { Pipeline } from "../../../../src/api/pipeline.js";
import { CONTROLLER_GONE_MS, RunHandle } from "../../../../src/api/run-handle.js";
import { RunLockedError } from "../../../../src/errors.js";
import { FileStore } from "../../../../src/store/file-store.js";
import { gd } from "../../cli/cli-helpers.js";
import { isAlive, localCluster, tempDir } from "../../helpers.js";
import { markerLines, markerTask, sleep, spawnTsx } from "./durable-helpers.js";

const FIXTURE = "test/fixtures/execute-remotely.ts";

/** a → (b, c) → d, each step sleeping `secs`. */
function diamond(markerId: string, secs: number): Pipeline {
  const p = new Pipeline({ projectName: "durable", pipelineName: "remote", defaults: { executionQueue: "cpu" } });
  const step = (name: string, parents: string[]) => p.addStep({ name, baseTaskId: markerId, parents, parameterOverride: { step: name, secs } });
  step("a", []);
  step("b", ["a"]);
  step("c", ["a"]);
  step("d", ["b", "c"]);
  return p;
}

async function setup(secs: number) {
  const home = await tempDir("gpu-dag-remote-");
  const markers = await tempDir("gpu-dag-markers-");
  const store = new FileStore({ home });
  const task = markerTask(markers);
  await task.createTask({ store });
  return { home, markers, store, pipeline: diamond(task.id!, secs) };
}

/** A pid that is certainly dead: a process that ran and was reaped. */
async function deadPid(): Promise<number> {
  const child = spawn("true");
  await new Promise((r) => child.once("exit", r));
  return child.pid!;
}

describe("executeRemotely() with a local detached controller", () => {
  it("the launching script exits at once; attach().wait() and status() follow the run to success; a second controller is refused", { timeout: 60_000 }, async () => {
    // Steps long enough that the two refused CLI starts below land while the run still runs,
    // even on a loaded machine.
    const { home, markers, store, pipeline } = await setup(1.5);
    const file = join(home, "pipeline.json");
    await writeFile(file, JSON.stringify(pipeline.toSpec()));

    const launcher = spawnTsx([FIXTURE, home, file]);
    const exit = await launcher.exited;
    expect(exit.code, launcher.output()).toBe(0);
    const { runId } = JSON.parse(launcher.output().trim().split("\n").at(-1)!) as { runId: string };

    const handle = Pipeline.attach(runId, { home });
    // The launcher is gone and the run is not over: someone else drives it.
    const early = await handle.status();
    expect(early.status).toBe("running");
    expect(early.steps["d"]!.status).toBe("pending");

    // The detached controller holds the run's lock; a second controller is refused.
    const lockFile = join(store.runDir(runId), "lock.json");
    let lock: { pid: number; owner: string } | undefined;
    for (let i = 0; i < 750 && !lock; i++) {
      lock = await readFile(lockFile, "utf8")
        .then((t) => JSON.parse(t) as { pid: number; owner: string })
        .catch(() => undefined);
      if (!lock) await sleep(20);
    }
    expect(lock, "the detached controller's lock").toBeDefined();
    expect(lock!.pid).not.toBe(process.pid);
    expect(lock!.pid).not.toBe(launcher.pid);
    expect(isAlive(lock!.pid)).toBe(true);
    const second = driveRun(runId, { store, resume: true });
    await expect(second).rejects.toBeInstanceOf(RunLockedError);
    await expect(second).rejects.toThrow(`run "${runId}" is driven by another controller (${lock!.owner}`);
    // So is one started by the CLI, here or detached: refused where the user sees it, nothing spawned.
    for (const args of [
      ["resume", runId],
      ["resume", runId, "--remote"],
    ]) {
      const refused = await gd(home, args);
      expect(refused.code, `${args.join(" ")}: ${refused.stdout}${refused.stderr}`).toBe(2);
      expect(refused.stderr).toContain(lock!.owner);
    }

    // Seen while running: some step running or done before the end.
    const seen = new Set<string>();
    for (;;) {
      const now = await handle.status();
      for (const s of Object.values(now.steps)) seen.add(s.status);
      if (now.status !== "running") break;
      await sleep(50);
    }
    expect(seen.has("running")).toBe(true);

    const result = await handle.wait({ timeoutMs: 30_000, pollMs: 50 });
    expect(result.status).toBe("succeeded");
    expect(Object.fromEntries(Object.entries(result.steps).map(([n, s]) => [n, [s.status, s.attempts]]))).toEqual({
      a: ["succeeded", 1],
      b: ["succeeded", 1],
      c: ["succeeded", 1],
      d: ["succeeded", 1],
    });
    for (const step of ["a", "b", "c", "d"]) expect(await markerLines(markers, step)).toHaveLength(1);
    // The controller released its lock and went away; its log is in the run directory.
    await expect(readFile(lockFile, "utf8")).rejects.toMatchObject({ code: "ENOENT" });
    for (let i = 0; i < 100 && isAlive(lock!.pid); i++) await sleep(20);
    expect(isAlive(lock!.pid)).toBe(false);
    expect(await readFile(join(store.runDir(runId), "controller.log"), "utf8")).toContain(runId);
    await store.close();
  });
});

describe("run lock", () => {
  const lockOf = (pid: number, heartbeatAt: number) => JSON.stringify({ owner: `${hostname()}:${pid}:dead`, host: hostname(), pid, heartbeatAt });

  it("a stale lock (its owner's pid is dead, heartbeat fresh) is taken over and the run driven to the end", async () => {
    const { store, markers, pipeline } = await setup(0);
    const { runId } = await createRun(pipeline, { store, cluster: localCluster() });
    const lockFile = join(store.runDir(runId), "lock.json");
    await writeFile(lockFile, lockOf(await deadPid(), Date.now()));
    const result = await driveRun(runId, { store });
    expect(result.status).toBe("succeeded");
    expect(await markerLines(markers, "d")).toHaveLength(1);
    await expect(readFile(lockFile, "utf8")).rejects.toMatchObject({ code: "ENOENT" });
    await store.close();
  });

  it("a lock whose owner is alive but whose heartbeat stopped long ago is taken over", async () => {
    const { store, pipeline } = await setup(0);
    const { runId } = await createRun(pipeline, { store, cluster: localCluster() });
    const hung = spawn("sleep", ["30"]);
    try {
      await writeFile(join(store.runDir(runId), "lock.json"), lockOf(hung.pid!, Date.now() - 60_000));
      expect((await driveRun(runId, { store })).status).toBe("succeeded");
    } finally {
      hung.kill("SIGKILL");
    }
    await store.close();
  });

  it("a live owner with a fresh heartbeat keeps the run: RunLockedError, nothing submitted", async () => {
    const { store, markers, pipeline } = await setup(0);
    const { runId } = await createRun(pipeline, { store, cluster: localCluster() });
    const other = spawn("sleep", ["30"]);
    try {
      await writeFile(join(store.runDir(runId), "lock.json"), lockOf(other.pid!, Date.now()));
      const error = await driveRun(runId, { store }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunLockedError);
      expect(error).toMatchObject({ code: "E_RUN_LOCKED", runId });
      expect(await store.readJournal(runId)).toEqual([]);
      expect(await markerLines(markers, "a")).toHaveLength(0);
    } finally {
      other.kill("SIGKILL");
    }
    await store.close();
  });
});

describe("RunHandle.wait with no controller", () => {
  it("rejects after CONTROLLER_GONE_MS without a lock, naming the controller log; a live controller process it started (not yet locked) keeps it waiting", { timeout: 30_000 }, async () => {
    const { store, pipeline } = await setup(0);
    const { runId } = await createRun(pipeline, { store, cluster: localCluster(), mode: "detached" });
    const started = Date.now();
    const error = await Pipeline.attach(runId, { store })
      .wait({ pollMs: 50 })
      .catch((e: unknown) => e);
    expect(String(error)).toContain(`run ${runId} is unfinished and no controller holds it (a local controller's log: ${join(store.runDir(runId), "controller.log")})`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(CONTROLLER_GONE_MS);
    // A slow-starting controller (here: a process that never takes the lock) is waited for, until the timeout.
    const starting = spawn("sleep", ["30"]);
    try {
      const stillWaiting = await new RunHandle(runId, store, { controllerPid: starting.pid! }).wait({ pollMs: 50, timeoutMs: CONTROLLER_GONE_MS + 2_000 }).catch((e: unknown) => e);
      expect(String(stillWaiting)).toContain(`run ${runId} still running after ${CONTROLLER_GONE_MS + 2_000} ms`);
    } finally {
      starting.kill("SIGKILL");
    }
    await store.close();
  });
});

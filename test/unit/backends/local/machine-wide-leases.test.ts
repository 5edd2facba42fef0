/**
 * GPUs are leased machine-wide: several controllers (separate processes, two runs in one process,
 * a detached controller next to a foreground run) sharing two fake GPUs and one lease directory
 * never put two jobs on one GPU at one instant; SIGKILL of a controller and its jobs frees their
 * GPUs for the others with nobody cleaning up; a waiting run says who holds the GPU it waits for.
 */
import { describe, expect, it } from "vitest";
import { createRun } from "../../../../src/api/create-run.js";
import { formatStatus } from "../../../../src/cli/commands/status.js";
import { waitingLines } from "../../../../src/cli/commands/watch.js";
import { loadRunView } from "../../../../src/cli/run-view.js";
import { FileStore } from "../../../../src/store/file-store.js";
import { tempDir, waitFor } from "../../helpers.js";
import { finishedAttempts, spawnTsx } from "../../runner/durable/durable-helpers.js";
import { gpuPipeline, type Interval, overlaps, readIntervals } from "./lease-helpers.js";

const CONTROLLER = "test/fixtures/durable-controller.ts";
const TWO_GPUS = { executor: "local", gpus: 2 } as const;

/** A run recorded in its own store home (as another user's or another shell's run would be). */
async function recordedRun(markers: string, name: string, shape: { one: number; two: number; secs: number }) {
  const home = await tempDir("gpu-dag-lease-home-");
  const store = new FileStore({ home });
  const pipeline = await gpuPipeline(store, markers, name, shape);
  const { runId } = await createRun(pipeline, { store, cluster: TWO_GPUS });
  return { home, store, runId, steps: pipeline.toSpec().steps.map((s) => s.name) };
}

async function allSucceeded(run: { store: FileStore; runId: string; steps: string[] }): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const step of run.steps) out[step] = (await finishedAttempts(run.store, run.runId, step)).map((e) => e.status);
  return out;
}

const devicesOf = (intervals: readonly Interval[]) => intervals.map((i) => i.devices.length);

describe("machine-wide GPU leases", () => {
  it("3 controller processes × (4 one-GPU steps + one 2-GPU step) on 2 GPUs: never two jobs on one GPU at once, every step succeeds", { timeout: 120_000 }, async () => {
    const markers = await tempDir("gpu-dag-lease-markers-");
    const leaseDir = await tempDir("gpu-dag-leases-");
    const runs = await Promise.all([1, 2, 3].map((i) => recordedRun(markers, `p${i}`, { one: 4, two: 1, secs: 0.3 })));
    const env = { ...process.env, GPU_DAG_LEASE_DIR: leaseDir };
    const children = runs.map((run) => spawnTsx([CONTROLLER, run.home, run.runId, "fresh"], env));
    const exits = await Promise.all(children.map((c) => c.exited));
    exits.forEach((exit, i) => expect(exit.code, children[i]!.output()).toBe(0));
    for (const child of children) expect(child.output()).toContain('{"status":"succeeded"}');
    for (const run of runs) expect(await allSucceeded(run)).toEqual({ g1: ["succeeded"], g2: ["succeeded"], g3: ["succeeded"], g4: ["succeeded"], d1: ["succeeded"] });
    const intervals = await readIntervals(markers);
    expect(intervals).toHaveLength(15);
    expect(devicesOf(intervals).sort()).toEqual([...Array(12).fill(1), 2, 2, 2]);
    expect(overlaps(intervals)).toEqual([]);
    for (const run of runs) await run.store.close();
  });

  it("SIGKILL of a controller and its jobs frees their GPUs for the others at once; the waiting runs say who holds them", { timeout: 120_000 }, async () => {
    const markers = await tempDir("gpu-dag-lease-markers-");
    const leaseDir = await tempDir("gpu-dag-leases-");
    const env = { ...process.env, GPU_DAG_LEASE_DIR: leaseDir };
    const victim = await recordedRun(markers, "victim", { one: 2, two: 0, secs: 60 });
    const victimController = spawnTsx([CONTROLLER, victim.home, victim.runId, "fresh"], env);
    await waitFor(async () => (await readIntervals(markers)).length === 2, "the victim's two jobs to hold both GPUs", 30_000);

    const others = await Promise.all([1, 2].map((i) => recordedRun(markers, `other${i}`, { one: 2, two: 1, secs: 0.3 })));
    const children = others.map((run) => spawnTsx([CONTROLLER, run.home, run.runId, "fresh"], env));
    // While they wait, `gpu-dag status` of a waiting run names the holder: the victim's run, step and pid.
    const victimPgids = (await readIntervals(markers)).map((i) => i.pgid);
    let status = "";
    await waitFor(
      async () => {
        status = formatStatus(await loadRunView(others[0]!.store, others[0]!.runId));
        return status.includes("waiting for GPU");
      },
      "a waiting reason in the waiting run's status",
      30_000,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}; status was:\n${status}\nintervals: ${JSON.stringify(await readIntervals(markers))}`);
    });
    expect(status).toMatch(new RegExp(`waiting for GPU: GPU [01] held by run ${victim.runId} step g[12] \\(pid (${victimPgids.join("|")})\\)`));
    expect((await readIntervals(markers)).length, "nobody started on a GPU the victim holds").toBe(2);
    // The same reason is in the journal (for `watch`, and as the `step:waiting` event's record).
    const view = await loadRunView(others[0]!.store, others[0]!.runId);
    expect(waitingLines(view).join("\n")).toContain(`held by run ${victim.runId} step g`);
    const waits = (await others[0]!.store.readJournal(others[0]!.runId)).filter((e) => e.type === "job-waiting");
    expect(waits.length).toBeGreaterThan(0);

    const killedAt = Date.now();
    victimController.kill("SIGKILL");
    for (const pgid of victimPgids) process.kill(-pgid, "SIGKILL");
    await victimController.exited;

    const exits = await Promise.all(children.map((c) => c.exited));
    exits.forEach((exit, i) => expect(exit.code, children[i]!.output()).toBe(0));
    for (const run of others) expect(await allSucceeded(run)).toEqual({ g1: ["succeeded"], g2: ["succeeded"], d1: ["succeeded"] });
    const intervals = await readIntervals(markers);
    const victims = intervals.filter((i) => i.job.startsWith(victim.runId));
    expect(victims.map((i) => i.end)).toEqual([undefined, undefined]);
    const rest = intervals.filter((i) => !i.job.startsWith(victim.runId));
    expect(rest).toHaveLength(6);
    expect(overlaps(intervals, killedAt)).toEqual([]);
    // The first job of the others started soon after the kill: the kernel dropped the victim's
    // leases with its processes and a waiting controller noticed (a lease left behind would hold
    // them for the victim's 60 s sleep). Generous for a loaded machine, far below 60 s.
    const firstStart = Math.min(...rest.map((i) => i.start));
    expect(firstStart).toBeGreaterThan(killedAt);
    expect(firstStart - killedAt, "ms from the kill to the next job's start").toBeLessThan(2500);
    await victim.store.close();
    for (const run of others) await run.store.close();
  });

  it("SIGKILL of a controller alone leaves its job holding its GPU: another run waits for it, and the resumed run's pool counts the adopted job's GPU", { timeout: 120_000 }, async () => {
    const markers = await tempDir("gpu-dag-lease-markers-");
    const leaseDir = await tempDir("gpu-dag-leases-");
    const env = { ...process.env, GPU_DAG_LEASE_DIR: leaseDir };
    const home = await tempDir("gpu-dag-lease-home-");
    const store = new FileStore({ home });
    const pipeline = await gpuPipeline(store, markers, "crashed", { one: 2, two: 0, secs: 2.5 });
    const { runId } = await createRun(pipeline, { store, cluster: { executor: "local", gpus: 1 } });
    const first = spawnTsx([CONTROLLER, home, runId, "fresh"], env);
    await waitFor(async () => (await readIntervals(markers)).length === 1, "one job of the run to hold the only GPU", 30_000);
    first.kill("SIGKILL");
    await first.exited;

    const other = await (async () => {
      const otherHome = await tempDir("gpu-dag-lease-home-");
      const otherStore = new FileStore({ home: otherHome });
      const p = await gpuPipeline(otherStore, markers, "other", { one: 1, two: 0, secs: 0.2 });
      const { runId: otherRunId } = await createRun(p, { store: otherStore, cluster: { executor: "local", gpus: 1 } });
      return { home: otherHome, store: otherStore, runId: otherRunId };
    })();
    const foreign = spawnTsx([CONTROLLER, other.home, other.runId, "fresh"], env);
    const resumed = spawnTsx([CONTROLLER, home, runId, "resume"], env);
    for (const child of [foreign, resumed]) {
      const exit = await child.exited;
      expect(exit.code, child.output()).toBe(0);
      expect(child.output()).toContain('{"status":"succeeded"}');
    }
    const intervals = await readIntervals(markers);
    expect(intervals).toHaveLength(3);
    expect(intervals.every((i) => i.end !== undefined)).toBe(true);
    expect(overlaps(intervals)).toEqual([]);
    // Each step's job ran once (3 intervals above). The step that was still waiting for the GPU
    // when its controller died was never started; the resumed controller reports that attempt
    // lost and runs the next one (the local backend's behaviour for never-started jobs).
    const journal = JSON.stringify(await store.readJournal(runId), null, 1);
    for (const step of ["g1", "g2"]) expect((await finishedAttempts(store, runId, step)).map((e) => e.status).at(-1), journal).toBe("succeeded");
    await store.close();
    await other.store.close();
  });

  it("two executeLocally() in one process at once never share a GPU", { timeout: 60_000 }, async () => {
    const markers = await tempDir("gpu-dag-lease-markers-");
    const runs = await Promise.all(
      [1, 2].map(async (i) => {
        const home = await tempDir("gpu-dag-lease-home-");
        const store = new FileStore({ home });
        return { store, home, pipeline: await gpuPipeline(store, markers, `inproc${i}`, { one: 4, two: 1, secs: 0.2 }) };
      }),
    );
    const results = await Promise.all(runs.map((r) => r.pipeline.executeLocally({ store: r.store, home: r.home, cluster: TWO_GPUS })));
    for (const result of results) expect(result.status).toBe("succeeded");
    const intervals = await readIntervals(markers);
    expect(intervals).toHaveLength(10);
    expect(overlaps(intervals)).toEqual([]);
    for (const run of runs) await run.store.close();
  });

  it("a detached controller (executeRemotely) and a foreground run never share a GPU", { timeout: 90_000 }, async () => {
    expect(process.env["GPU_DAG_LEASE_DIR"], "the test setup gives each test file a private lease directory").toBeTruthy();
    const markers = await tempDir("gpu-dag-lease-markers-");
    const detachedHome = await tempDir("gpu-dag-lease-home-");
    const detachedStore = new FileStore({ home: detachedHome });
    const detached = await gpuPipeline(detachedStore, markers, "detached", { one: 4, two: 1, secs: 0.3 });
    const handle = await detached.executeRemotely({ home: detachedHome, cluster: TWO_GPUS });
    const home = await tempDir("gpu-dag-lease-home-");
    const store = new FileStore({ home });
    const foreground = await gpuPipeline(store, markers, "foreground", { one: 4, two: 1, secs: 0.3 });
    const result = await foreground.executeLocally({ store, home, cluster: TWO_GPUS });
    expect(result.status).toBe("succeeded");
    const remote = await handle.wait({ timeoutMs: 60_000, pollMs: 50 });
    expect(remote.status).toBe("succeeded");
    const intervals = await readIntervals(markers);
    expect(intervals).toHaveLength(10);
    expect(overlaps(intervals)).toEqual([]);
    await detachedStore.close();
    await store.close();
  });
});

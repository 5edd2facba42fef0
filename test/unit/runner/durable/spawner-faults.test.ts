/**
 * Crash safety of the local backend's spawner (src/backends/local/spawner.ts): the 30-step
 * random DAG of fault-injection.test.ts, its controller in a child process, and SIGKILLs of the
 * controller's spawner — alone (the controller carries on: it watches the orphaned jobs and
 * starts a new spawner), and together with the controller (resumed each time). At the end every
 * step succeeded exactly once (the same verdict as for SIGKILLs of the controller alone).
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRun } from "../../../../src/api/create-run.js";
import { replayJournal } from "../../../../src/runner/replay.js";
import { FileStore } from "../../../../src/store/file-store.js";
import { localCluster, mulberry32, tempDir } from "../../helpers.js";
import { expectEachStepRanOnce, faultPipeline, markerTask, sleep, spawnTsx } from "./durable-helpers.js";

const FIXTURE = "test/fixtures/durable-controller.ts";
const SEED = Number(process.env["GPU_DAG_FAULT_SEED"] ?? 20261201);
const STEPS = 30;
const KILLS = 6;

/** Pids of the spawners whose parent is `pid` (found in /proc by their argv). */
function spawnersOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      // Its last argument names it (a job's argv may hold the same words, e.g. in a path).
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8")
        .split("\0")
        .filter((a) => a !== "");
      if (ppid === pid && argv.at(-1) === "gpu-dag-spawner" && argv.includes("-c")) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function journalLines(file: string): Promise<string[]> {
  return (await readFile(file, "utf8").catch(() => "")).split("\n").filter((l) => l !== "");
}

async function setUp(name: string) {
  const rng = mulberry32(SEED + name.length);
  const home = await tempDir(`gpu-dag-${name}-`); // (a job's argv holds this path)
  const markers = join(home, "markers");
  await mkdir(markers);
  const store = new FileStore({ home });
  const task = markerTask(markers);
  await task.createTask({ store });
  const { pipeline, parents } = faultPipeline(rng, task.id!, STEPS, name);
  const { runId } = await createRun(pipeline, { store, cluster: localCluster(), runId: `${name}-${SEED}` });
  const journal = join(store.runDir(runId), "journal.jsonl");
  // Kill points: numbers of journal entries spread over the run (≥ 3 entries per step).
  const thresholds = Array.from({ length: KILLS }, () => 2 + Math.floor(rng() * STEPS * 2.5)).sort((a, b) => a - b);
  return { rng, home, markers, store, parents, runId, journal, thresholds };
}

/** Waits until `journal` has `threshold` entries besides `run-started` ones, or `ended()`. */
async function reach(journal: string, threshold: number, ended: () => boolean): Promise<void> {
  for (;;) {
    const lines = await journalLines(journal);
    const starts = lines.filter((l) => l.includes('"run-started"')).length;
    if (lines.length - starts >= threshold || ended()) return;
    await sleep(5);
  }
}

describe("fault injection: SIGKILLed spawner, local backend", () => {
  it(`the spawner SIGKILLed ${KILLS} times under a running controller: every step of a ${STEPS}-step DAG succeeds exactly once (seed ${SEED})`, { timeout: 120_000 }, async () => {
    const { rng, markers, store, parents, runId, journal, thresholds, home } = await setUp("spawner-kill");
    const child = spawnTsx([FIXTURE, home, runId, "fresh"]);
    let ended = false;
    void child.exited.then(() => (ended = true));
    const killed: number[] = [];
    for (const threshold of thresholds) {
      await reach(journal, threshold, () => ended);
      if (ended) break;
      await sleep(rng() * 60);
      for (const pid of spawnersOf(child.pid!)) {
        process.kill(pid, "SIGKILL");
        killed.push(pid);
      }
    }
    const exit = await child.exited;
    expect(exit.code, child.output()).toBe(0);
    const bad = (await store.readJournal(runId)).filter((e) => e.type === "attempt-finished" && e.status !== "succeeded");
    expect(child.output(), JSON.stringify(bad)).toContain('{"status":"succeeded"}');
    // The kills hit live spawners, each a new one (the controller started another every time).
    expect(killed.length, `spawners killed before the run ended: ${killed.length}`).toBeGreaterThanOrEqual(3);
    expect(new Set(killed).size).toBe(killed.length);
    const entries = await store.readJournal(runId);
    expect(replayJournal(entries, [...parents.keys()]).controllerStarts).toBe(1);
    await expectEachStepRanOnce(store, entries, parents, markers);
    await store.close();
  });

  it(`the spawner and its controller SIGKILLed together ${KILLS} times, resumed each time: every step succeeds exactly once (seed ${SEED})`, { timeout: 120_000 }, async () => {
    const { rng, markers, store, parents, runId, journal, thresholds, home } = await setUp("spawner-and-controller");
    let starts = 0;
    let bothKilled = 0;
    for (const threshold of thresholds) {
      starts += 1;
      const child = spawnTsx([FIXTURE, home, runId, starts === 1 ? "fresh" : "resume"]);
      let ended = false;
      void child.exited.then(() => (ended = true));
      // This controller's start journaled, and the journal at the threshold.
      for (;;) {
        const lines = await journalLines(journal);
        const runStarts = lines.filter((l) => l.includes('"run-started"')).length;
        if ((runStarts >= starts && lines.length - runStarts >= threshold) || ended) break;
        await sleep(5);
      }
      if (ended) throw new Error(`controller ${starts} ended before kill point ${threshold}: ${child.output()}`);
      await sleep(rng() * 60);
      const spawners = spawnersOf(child.pid!);
      if (spawners.length > 0) bothKilled += 1;
      // Both in the same tick: neither sees the other's death first.
      for (const pid of spawners) process.kill(pid, "SIGKILL");
      child.kill("SIGKILL");
      const exit = await child.exited;
      if (exit.signal !== "SIGKILL") throw new Error(`controller ${starts} exited by itself (${exit.code}) before its kill: ${child.output()}`);
    }
    const last = spawnTsx([FIXTURE, home, runId, "resume"]);
    const exit = await last.exited;
    expect(exit.code, last.output()).toBe(0);
    expect(last.output()).toContain('{"status":"succeeded"}');
    expect(bothKilled, "kills that found a spawner to kill with its controller").toBeGreaterThanOrEqual(3);
    const entries = await store.readJournal(runId);
    expect(replayJournal(entries, [...parents.keys()]).controllerStarts).toBe(KILLS + 1);
    await expectEachStepRanOnce(store, entries, parents, markers);
    await store.close();
  });
});

/**
 * Crash safety of the local backend and the journal: a 30-step random DAG whose controller (a
 * child process) is SIGKILLed at 10 seeded random moments and resumed each time. At the end every
 * step succeeded exactly once: one line in its job-side marker file (the job really ran once),
 * one succeeded attempt in the journal, and every output it recorded exists.
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRun } from "../../../../src/api/create-run.js";
import { replayJournal } from "../../../../src/runner/replay.js";
import { FileStore } from "../../../../src/store/file-store.js";
import { localCluster, mulberry32, tempDir } from "../../helpers.js";
import { expectEachStepRanOnce, faultPipeline, markerTask, sleep, spawnTsx } from "./durable-helpers.js";

const FIXTURE = "test/fixtures/durable-controller.ts";
const SEED = Number(process.env["GPU_DAG_FAULT_SEED"] ?? 20261121);
const STEPS = 30;
const KILLS = 10;

async function journalLines(file: string): Promise<string[]> {
  return (await readFile(file, "utf8").catch(() => "")).split("\n").filter((l) => l !== "");
}

describe("fault injection: SIGKILLed controller, local backend", () => {
  it(`every step of a ${STEPS}-step DAG succeeds exactly once across ${KILLS} SIGKILLs (seed ${SEED})`, { timeout: 90_000 }, async () => {
    const rng = mulberry32(SEED);
    const home = await tempDir("gpu-dag-fault-");
    const markers = join(home, "markers");
    await mkdir(markers);
    const store = new FileStore({ home });
    const task = markerTask(markers);
    await task.createTask({ store });
    const { pipeline, parents } = faultPipeline(rng, task.id!, STEPS, "fault-injection");
    const { runId } = await createRun(pipeline, { store, cluster: localCluster(), runId: `fault-${SEED}` });
    const journal = join(store.runDir(runId), "journal.jsonl");

    // Kill points: numbers of journal entries (run-started aside) spread over the run, each
    // followed by a random delay so kills land between entries too, not only right after one.
    // A run journals at least 3 entries per step (planned, submitted, finished; job-started only
    // when a controller saw the start), so ≤ 2.5 per step leaves work for the controller to do.
    const thresholds = Array.from({ length: KILLS }, () => 1 + Math.floor(rng() * STEPS * 2.5)).sort((a, b) => a - b);
    const kills: Array<{ threshold: number; lines: number; lastEntry: string }> = [];
    let starts = 0;
    for (const threshold of thresholds) {
      starts += 1;
      const child = spawnTsx([FIXTURE, home, runId, starts === 1 ? "fresh" : "resume"]);
      let ended = false;
      void child.exited.then(() => (ended = true));
      // Wait until this controller has journaled its start and the journal reached the threshold.
      for (;;) {
        const lines = await journalLines(journal);
        const runStarts = lines.filter((l) => l.includes('"run-started"')).length;
        if ((runStarts >= starts && lines.length - runStarts >= threshold) || ended) break;
        await sleep(5);
      }
      if (ended) {
        throw new Error(`controller ${starts} ended before kill point ${threshold}: ${child.output()}`);
      }
      await sleep(rng() * 100);
      child.kill("SIGKILL");
      const exit = await child.exited;
      const lines = await journalLines(journal);
      kills.push({ threshold, lines: lines.length, lastEntry: /"type":"([a-z-]+)"/.exec(lines.at(-1) ?? "")?.[1] ?? "torn" });
      if (exit.signal !== "SIGKILL") throw new Error(`controller ${starts} exited by itself (${exit.code}) before its kill: ${child.output()}`);
    }

    // The last controller runs to the end.
    const last = spawnTsx([FIXTURE, home, runId, "resume"]);
    const exit = await last.exited;
    expect(exit.code, last.output()).toBe(0);
    expect(last.output()).toContain('{"status":"succeeded"}');

    const entries = await store.readJournal(runId);
    const replay = replayJournal(entries, [...parents.keys()]);
    expect(replay.status).toBe("succeeded");
    expect(replay.controllerStarts).toBe(KILLS + 1);
    // The kills hit a running controller across the run, not just its start.
    expect(new Set(kills.map((k) => k.lastEntry)).size, JSON.stringify(kills)).toBeGreaterThan(1);

    await expectEachStepRanOnce(store, entries, parents, markers);
    await store.close();
  });
});

/**
 * A durable study: its controller (a child process) is SIGKILLed at seeded moments — between
 * trials, mid-trial, while jobs run — and resumed each time with the real `driveStudy()`. At the
 * end no trial ran twice (one marker line per job, one ask and one tell per trial, no retry
 * runs), none was lost, and the table equals that of the same study run without interruption.
 */
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { replayJournal } from "../../../src/runner/replay.js";
import { FileStore } from "../../../src/store/file-store.js";
import { Study, type StudyView } from "../../../src/study/study.js";
import { readStudyJournal, studyDir } from "../../../src/study/study-files.js";
import { localCluster, mulberry32, tempDir } from "../helpers.js";
import { allMarkers, entriesOf, sleep, spawnTsx } from "../runner/durable/durable-helpers.js";
import { trialPipeline, trialTask } from "./study-helpers.js";

const FIXTURE = "test/fixtures/study-controller.ts";
const SEED = Number(process.env["GPU_DAG_FAULT_SEED"] ?? 20261201);
const KILLS = 5;

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, "utf8").catch(() => "")).split("\n").filter((l) => l !== "");
}

/** Entries journaled so far: the study's and every trial run's. */
async function progress(home: string, studyId: string): Promise<{ total: number; starts: number; last: string }> {
  const study = await lines(join(studyDir(home, studyId), "journal.jsonl"));
  const runs = await readdir(join(home, "runs")).catch(() => [] as string[]);
  let total = study.length;
  for (const run of runs) total += (await lines(join(home, "runs", run, "journal.jsonl"))).length;
  return { total, starts: study.filter((l) => l.includes('"study-started"')).length, last: /"type":"([a-z-]+)"/.exec(study.at(-1) ?? "")?.[1] ?? "none" };
}

async function makeStudy(home: string) {
  const markers = join(home, "markers");
  await mkdir(markers);
  const store = new FileStore({ home });
  const taskId = await trialTask(store, home, markers);
  const study = new Study({
    pipeline: trialPipeline(taskId, { secs: 0.15 }),
    parameters: { x: [0, 1, 2, 3, 4, 5], y: [0, 1] },
    fixed: { fail_at: 5 },
    objective: 'score.metrics["score"]',
    concurrency: 3,
    store,
    home,
    cluster: localCluster({ maxParallel: 3 }),
  });
  return { study, store, markers };
}

const comparable = (view: StudyView) =>
  view.table.map(({ trial, params, status, objective, rung, attempt, reason }) => ({ trial, params, status, objective, rung, attempt, failed: reason?.replace(/\(job [^)]*\)/, "") }));

describe("study controller crash safety", () => {
  it(`kill -9 at ${KILLS} seeded moments, then resume: no trial twice, none lost, the same table (seed ${SEED})`, { timeout: 120_000 }, async () => {
    const rng = mulberry32(SEED);
    // The same study, uninterrupted, for reference.
    const reference = await makeStudy(await tempDir("gpu-dag-study-ref-"));
    const expected = await reference.study.run({ retryBackoffMs: 50 });
    await reference.store.close();
    expect(expected.trials).toHaveLength(12);

    const home = await tempDir("gpu-dag-study-crash-");
    const { study, store, markers } = await makeStudy(home);
    const studyId = await study.submit();
    const thresholds = Array.from({ length: KILLS }, () => 1 + Math.floor(rng() * 90)).sort((a, b) => a - b);
    const kills: Array<{ threshold: number; total: number; last: string }> = [];
    for (let i = 0; i < KILLS; i++) {
      const child = spawnTsx([FIXTURE, home, studyId, i === 0 ? "fresh" : "resume"]);
      let ended = false;
      void child.exited.then(() => (ended = true));
      for (;;) {
        const p = await progress(home, studyId);
        if ((p.starts > i && p.total >= thresholds[i]!) || ended) break;
        await sleep(5);
      }
      if (ended) throw new Error(`study controller ${i + 1} ended before kill point ${thresholds[i]}: ${child.output()}`);
      await sleep(rng() * 150);
      child.kill("SIGKILL");
      const exit = await child.exited;
      if (exit.signal !== "SIGKILL") throw new Error(`study controller ${i + 1} exited by itself (${exit.code}): ${child.output()}`);
      const p = await progress(home, studyId);
      kills.push({ threshold: thresholds[i]!, total: p.total, last: p.last });
    }
    const last = spawnTsx([FIXTURE, home, studyId, "resume"]);
    const exit = await last.exited;
    expect(exit.code, last.output()).toBe(0);
    expect(last.output()).toContain('{"status":"succeeded"}');

    const view = await Study.view(studyId, { home });
    expect(comparable(view), JSON.stringify(kills)).toEqual(comparable(expected));
    expect(view.best?.params).toEqual({ x: 4, y: 1 });

    // One ask and one tell per trial, from KILLS + 1 controllers; nothing retried.
    const journal = await readStudyJournal(home, studyId);
    expect(journal.filter((e) => e.type === "study-started")).toHaveLength(KILLS + 1);
    for (let trial = 0; trial < 12; trial++) {
      expect(
        journal.filter((e) => e.type === "trial-asked" && e.trial === trial),
        `asks of trial ${trial}`,
      ).toHaveLength(1);
      expect(
        journal.filter((e) => e.type === "trial-told" && e.trial === trial),
        `tells of trial ${trial}`,
      ).toHaveLength(1);
    }
    // Every job ran once: one marker line each; `score` once per trial, `base` once for the study.
    const files = await allMarkers(markers);
    for (const [file, markerLines] of files) expect(markerLines, file).toHaveLength(1);
    expect([...files.keys()].filter((k) => k.endsWith(".score")).sort()).toEqual(view.trials.map((t) => `${t.runId}.score`).sort());
    expect([...files.keys()].filter((k) => k.endsWith(".base"))).toHaveLength(1);
    // Each trial's run: every attempt other than the one that ran was lost before it started.
    for (const t of view.trials) {
      const entries = await store.readJournal(t.runId);
      const replay = replayJournal(entries, ["base", "score"]);
      expect(replay.status, t.runId).toBe(t.status === "succeeded" ? "succeeded" : "failed");
      const ran = entriesOf(entries, "attempt-finished").filter((e) => e.step === "score" && e.status !== "lost");
      expect(ran, `${t.runId} score attempts`).toHaveLength(1);
    }
    // The kills landed at different moments of the study.
    expect(new Set(kills.map((k) => k.total)).size, JSON.stringify(kills)).toBe(KILLS);
    await store.close();
  });
});

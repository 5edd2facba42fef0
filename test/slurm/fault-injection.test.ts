/**
 * Crash safety on the real Slurm (over sshd): a 30-step random DAG whose controller (a child
 * process) is SIGKILLed at 10 seeded moments and resumed each time. At the end every step
 * succeeded exactly once — one line in its job-side marker file (the job really ran once), one
 * succeeded attempt in the journal — and Slurm itself never saw an attempt's job name twice
 * (no job was submitted twice), and every recorded output exists on the cluster's filesystem.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createRun } from "../../src/api/create-run.js";
import { replayJournal } from "../../src/runner/replay.js";
import { FileStore } from "../../src/store/file-store.js";
import { mulberry32, tempDir } from "../unit/helpers.js";
import { allMarkers, entriesOf, faultPipeline, markerTask, sleep, spawnTsx } from "../unit/runner/durable/durable-helpers.js";
import { pipelineClusterConfig, slurmTestEnv } from "./slurm-test-env.js";

const FIXTURE = "test/fixtures/durable-controller.ts";
const SEED = Number(process.env["GPU_DAG_FAULT_SEED"] ?? 20261122);
const STEPS = 30;
const KILLS = 10;
const env = slurmTestEnv();

function clusterConfig() {
  const config = pipelineClusterConfig(env);
  if (config.executor !== "slurm") throw new Error("expected a slurm config");
  return { ...config, queues: { ...config.queues, cpu: { partition: env.partitions.cpu, cpus: 1, nodes: 1, extraSbatch: [] } } };
}

describe("fault injection: SIGKILLed controller, real Slurm over SSH", () => {
  // Job-side markers live where the cluster user can write them (its home) and the test can read.
  const markers = join(env.jobDir, `markers-${randomBytes(4).toString("hex")}`);
  afterAll(() => rmSync(markers, { recursive: true, force: true }));

  it(`every step of a ${STEPS}-step DAG runs exactly once and no Slurm job is submitted twice across ${KILLS} SIGKILLs (seed ${SEED})`, { timeout: 300_000 }, async () => {
    mkdirSync(markers, { recursive: true });
    execFileSync("chown", [`${env.user}:${env.user}`, markers]);
    const rng = mulberry32(SEED);
    const home = await tempDir("gpu-dag-slurm-fault-");
    const store = new FileStore({ home });
    const task = markerTask(markers);
    await task.createTask({ store });
    const { pipeline, parents } = faultPipeline(rng, task.id!, STEPS, "slurm-fault-injection");
    const { runId } = await createRun(pipeline, { store, cluster: clusterConfig(), runId: `sfault-${SEED}-${randomBytes(2).toString("hex")}` });
    const journal = join(store.runDir(runId), "journal.jsonl");
    const lines = () =>
      readFileSync(journal, "utf8")
        .split("\n")
        .filter((l) => l !== "");
    const safeLines = () => {
      try {
        return lines();
      } catch {
        return [];
      }
    };

    const thresholds = Array.from({ length: KILLS }, () => 2 + Math.floor(rng() * (STEPS * 4 - 10))).sort((a, b) => a - b);
    for (let start = 1; start <= KILLS; start++) {
      const child = spawnTsx([FIXTURE, home, runId, start === 1 ? "fresh" : "resume"]);
      let ended = false;
      void child.exited.then(() => (ended = true));
      for (;;) {
        const current = safeLines();
        const started = current.filter((l) => l.includes('"run-started"')).length >= start;
        if ((started && current.length >= thresholds[start - 1]!) || ended) break;
        await sleep(10);
      }
      if (ended) throw new Error(`controller ${start} ended before its kill point: ${child.output()}`);
      await sleep(rng() * 300);
      child.kill("SIGKILL");
      await child.exited;
    }
    const last = spawnTsx([FIXTURE, home, runId, "resume"]);
    const exit = await last.exited;
    expect(exit.code, last.output()).toBe(0);

    const entries = await store.readJournal(runId);
    const replay = replayJournal(entries, [...parents.keys()]);
    const failures = [...replay.steps.values()].filter((s) => s.status !== "succeeded").map((s) => `${s.name}: ${s.status} ${s.reason ?? ""}`);
    expect(replay.status, failures.join("\n")).toBe("succeeded");
    expect(replay.controllerStarts).toBe(KILLS + 1);

    // Each job ran once (its marker has one line).
    const markerFiles = await allMarkers(markers);
    expect([...markerFiles.keys()]).toEqual([...parents.keys()]);
    for (const [step, content] of markerFiles) expect(content, `marker of ${step}`).toHaveLength(1);

    // Slurm saw each job name at most once: nothing was submitted twice.
    const names = execFileSync("squeue", ["-h", "-t", "all", "-o", "%j"], { encoding: "utf8" })
      .split("\n")
      .filter((n) => n.startsWith(`gd-${runId}-`));
    const counts = new Map<string, number>();
    for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
    expect(
      [...counts.values()].every((c) => c === 1),
      JSON.stringify([...counts]),
    ).toBe(true);
    expect(new Set(names.map((n) => n.replace(/-a\d+$/, ""))).size).toBe(STEPS);

    const finished = entriesOf(entries, "attempt-finished");
    for (const step of parents.keys()) {
      expect(
        finished.filter((e) => e.step === step && e.status === "succeeded"),
        step,
      ).toHaveLength(1);
      const artifact = replay.steps.get(step)!.outputs!.artifacts[0]!;
      expect(readFileSync(artifact.path, "utf8").trim()).toBe(step);
    }
    await store.close();
  });
});

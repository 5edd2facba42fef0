/**
 * The run index: its fold gives the same summaries whatever the order of its lines (so
 * interleaved writers and a raced compaction lose nothing), compaction keeps every run, and four
 * processes appending while this one compacts over and over leave every line of every run in it.
 */
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { JournalEntry, RunRecord } from "../../../src/store/records.js";
import { RunIndex, readIndex } from "../../../src/store/run-index.js";
import { deltasOf, labelsOf, type PlannedInput, SummaryFold, summarizeRun } from "../../../src/store/run-summary.js";
import { mulberry32, tempDir } from "../helpers.js";
import { spawnTsx } from "../runner/durable/durable-helpers.js";

const RECORD: RunRecord = {
  id: "r1",
  name: "exp",
  tags: ["t"],
  projectName: "p",
  pipelineName: "q",
  createdAt: "2026-12-01T00:00:00.000Z",
  cluster: { name: "local", source: "builtin:local" },
  pipeline: { parameters: { lr: { default: 0.1 }, seed: { default: 0 } }, steps: [{ name: "train" }, { name: "eval" }] },
  tasks: [],
  mode: "local",
  options: { parameters: { seed: 3 } },
};
const outputs = (metrics: Record<string, number>, models: string[] = []) => ({
  models: models.map((id) => ({ id, name: id, path: `/m/${id}`, framework: "hf" })),
  artifacts: [],
  metrics,
  simulated: false,
});
const planned = (step: string, attempt: number, modelId?: string): JournalEntry => ({
  type: "attempt-planned",
  at: 0,
  step,
  attempt,
  jobName: "j",
  argv: ["run", ...(modelId ? ["--model", `/m/${modelId}`] : [])],
  parameters: modelId ? { modelId } : {},
  queue: "q",
});
/** A run that failed, was resumed, retried a step and succeeded. */
const JOURNAL: JournalEntry[] = [
  { type: "run-started", at: 10, controller: "a" },
  { ...planned("train", 1), at: 11 } as JournalEntry,
  { type: "attempt-finished", at: 20, step: "train", attempt: 1, status: "failed", exitCode: 1, infrastructure: false, reason: "boom" },
  { type: "step-skipped", at: 21, step: "eval", reason: "parent failed" },
  { type: "run-finished", at: 22, status: "failed" },
  { type: "run-started", at: 30, controller: "b" },
  { ...planned("train", 2), at: 31 } as JournalEntry,
  { type: "attempt-finished", at: 40, step: "train", attempt: 2, status: "succeeded", exitCode: 0, infrastructure: false, reason: "", outputs: outputs({ loss: 0.5 }, ["model_x"]) },
  { ...planned("eval", 1, "model_x"), at: 41 } as JournalEntry,
  { type: "attempt-finished", at: 50, step: "eval", attempt: 1, status: "succeeded", exitCode: 0, infrastructure: false, reason: "", outputs: outputs({ "task/acc": 0.7 }) },
  { type: "run-finished", at: 51, status: "succeeded" },
];

describe("run index", () => {
  it("summarises a resumed run: labels, effective parameters, last outcome of each step, the model each step was given", () => {
    const summary = summarizeRun(RECORD, JOURNAL);
    expect(summary).toMatchObject({ id: "r1", name: "exp", tags: ["t"], params: { lr: 0.1, seed: 3 }, status: "succeeded", startedAt: 10, endedAt: 51, stepCount: 2 });
    expect(summary.steps["train"]).toMatchObject({ status: "succeeded", attempt: 2, metrics: { loss: 0.5 }, models: ["model_x"] });
    expect(summary.steps["eval"]).toMatchObject({ status: "succeeded", input: "model_x", inputPath: "/m/model_x", metrics: { "task/acc": 0.7 } });
  });

  it("folds its lines to the same summaries in any order, duplicates included", () => {
    const memory = new Map<string, PlannedInput>();
    const lines = [{ k: "run" as const, id: "r1", at: 0, run: labelsOf(RECORD) }, ...JOURNAL.flatMap((e) => deltasOf("r1", e, memory))];
    const expected = summarizeRun(RECORD, JOURNAL);
    const random = mulberry32(7);
    for (let round = 0; round < 50; round++) {
      const shuffled = [...lines, ...lines.filter(() => random() < 0.3)].sort(() => random() - 0.5);
      const fold = new SummaryFold();
      for (const line of shuffled) fold.add(line);
      expect(fold.summary("r1")).toEqual(expected);
    }
  });

  it("skips a torn last line and lines it does not know; compaction leaves one line per run and the same summaries", async () => {
    const home = await tempDir();
    const index = new RunIndex(home);
    const memory = new Map<string, PlannedInput>();
    index.append([{ k: "run", id: "r1", at: 0, run: labelsOf(RECORD) }]);
    for (const entry of JOURNAL) index.append(deltasOf("r1", entry, memory));
    await index.flush();
    await appendFile(index.file, '{"v":2,"k":"future","id":"r1"}\n{"v":1,"k":"status","id":"r1","at":99,"sta');
    const before = await readIndex(index.file);
    expect([...before.summaries.values()]).toEqual([summarizeRun(RECORD, JOURNAL)]);
    expect(await index.compact()).toBe(true);
    expect((await readFile(index.file, "utf8")).trim().split("\n")).toHaveLength(1);
    expect((await readIndex(index.file)).summaries).toEqual(before.summaries);
  });

  it("four processes appending while this one compacts again and again: no line of any run is lost", { timeout: 120_000 }, async () => {
    const home = await tempDir();
    await mkdir(join(home, "index"));
    const writers = ["w0", "w1", "w2", "w3"].map((prefix) => spawnTsx([join("test", "fixtures", "results", "index-writer.ts"), home, prefix, "25", "4"]));
    const index = new RunIndex(home);
    let compactions = 0;
    let done = false;
    const exits = Promise.all(writers.map((w) => w.exited)).then((codes) => {
      done = true;
      return codes;
    });
    while (!done) {
      if (await index.compact()) compactions++;
      await new Promise((r) => setTimeout(r, 5));
    }
    for (const [i, exit] of (await exits).entries()) expect(exit, writers[i]!.output()).toEqual({ code: 0, signal: null });
    expect(compactions).toBeGreaterThan(1); // compactions raced the appends (fewer on a loaded machine)
    const { summaries } = await readIndex(index.file);
    expect(summaries.size).toBe(100);
    for (const summary of summaries.values()) {
      const r = Number(summary.id.slice(3));
      expect(summary).toMatchObject({ status: "succeeded", params: { r }, tags: [summary.id.slice(0, 2)] });
      expect(Object.keys(summary.steps).sort()).toEqual(["s0", "s1", "s2", "s3"]);
      for (const [name, step] of Object.entries(summary.steps)) expect(step.metrics).toEqual({ score: r + Number(name.slice(1)) });
    }
  });
});

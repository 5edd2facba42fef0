/**
 * The file store: atomic writes, journals (round trip, torn tail, corruption), runs and models.
 */
import { appendFile, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RunNotFoundError, StoreError } from "../../../src/errors.js";
import { atomicWrite } from "../../../src/store/atomic-write.js";
import { FileStore } from "../../../src/store/file-store.js";
import type { JournalEntry, ModelRecord, RunRecord } from "../../../src/store/records.js";
import { tempDir, tempStore } from "../helpers.js";

function runRecord(id: string): RunRecord {
  return {
    id,
    projectName: "unit",
    pipelineName: "p",
    createdAt: "2026-01-01T00:00:00.000Z",
    cluster: { name: "local", source: "builtin:local" },
    pipeline: { steps: [] },
    tasks: [],
    mode: "local",
    options: { parameters: {} },
  };
}

const ENTRIES: JournalEntry[] = [
  { type: "run-started", at: 1, controller: "pid 1" },
  { type: "attempt-planned", at: 2, step: "s", attempt: 1, jobName: "gd-r-s-a1", argv: ["sh", "-c", "echo 'x'\n"], parameters: { modelId: "m", n: 3 }, queue: "q-x1" },
  { type: "job-submitted", at: 3, step: "s", attempt: 1, backendJobId: "gd-r-s-a1" },
  { type: "job-started", at: 4, step: "s", attempt: 1 },
  {
    type: "attempt-finished",
    at: 5,
    step: "s",
    attempt: 1,
    status: "succeeded",
    exitCode: 0,
    infrastructure: false,
    reason: "",
    outputs: { models: [{ id: "model_1", name: "m", path: "/m", framework: "transformers" }], artifacts: [], metrics: { acc: 0.5 }, simulated: false },
  },
  { type: "step-skipped", at: 6, step: "t", reason: 'parent "s" failed' },
  { type: "run-finished", at: 7, status: "succeeded" },
];

describe("atomicWrite", () => {
  it("leaves the new content and no temp files, even with concurrent writers", async () => {
    const dir = await tempDir();
    const file = join(dir, "sub", "record.json");
    await atomicWrite(file, "first");
    expect(await readFile(file, "utf8")).toBe("first");
    const contents = Array.from({ length: 50 }, (_, i) => JSON.stringify({ i, pad: "x".repeat(10_000 + i) }));
    await Promise.all(contents.map((c) => atomicWrite(file, c)));
    const final = await readFile(file, "utf8");
    expect(contents).toContain(final); // one whole write, never a mix
    expect(await readdir(join(dir, "sub"))).toEqual(["record.json"]);
  });

  it("refuses to write through a missing parent that is a file, leaving nothing behind", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "blocker"), "x");
    await expect(atomicWrite(join(dir, "blocker", "f.json"), "y")).rejects.toThrow();
    expect(await readdir(dir)).toEqual(["blocker"]);
  });
});

describe("FileStore", () => {
  it("writes records atomically: no temp files left in the store", async () => {
    const store = await tempStore();
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.putTask({ id: `task_${i}`, type: "custom", projectName: "p", taskName: `t${i}`, createdAt: "now", options: { i } })));
    const files = await readdir(join(store.home, "tasks"));
    expect(files.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `task_${i}.json`).sort());
    expect((await store.listTasks()).map((t) => t.options["i"])).toHaveLength(20);
  });

  it("journal entries round trip in order (group-committed appends)", async () => {
    const store = await tempStore();
    await store.createRun(runRecord("r1"));
    // Many appends in flight at once: all resolve, and the order is the order of the calls.
    const many: JournalEntry[] = Array.from({ length: 200 }, (_, i) => ({ type: "job-started", at: i, step: `s${i}`, attempt: 1 }));
    await Promise.all([...ENTRIES, ...many].map((e) => store.appendJournal("r1", e)));
    expect(await store.readJournal("r1")).toEqual([...ENTRIES, ...many]);
    // A second store instance (another controller) reads the same.
    expect(await new FileStore({ home: store.home }).readJournal("r1")).toEqual([...ENTRIES, ...many]);
  });

  it("ignores a torn last line (a crash mid-append)", async () => {
    const store = await tempStore();
    await store.createRun(runRecord("r2"));
    for (const e of ENTRIES.slice(0, 3)) await store.appendJournal("r2", e);
    await store.close();
    await appendFile(join(store.runDir("r2"), "journal.jsonl"), '{"type":"job-started","at":9,"st');
    expect(await store.readJournal("r2")).toEqual(ENTRIES.slice(0, 3));
  });

  it("a corrupt line that is not the last is an error naming the file and the line", async () => {
    const store = await tempStore();
    await store.createRun(runRecord("r3"));
    const file = join(store.runDir("r3"), "journal.jsonl");
    const lines = ENTRIES.slice(0, 3).map((e) => JSON.stringify(e));
    await writeFile(file, [lines[0], "{not json", lines[1], lines[2], ""].join("\n"));
    const error = await store.readJournal("r3").then(
      () => undefined,
      (e: unknown) => e as StoreError,
    );
    expect(error).toBeInstanceOf(StoreError);
    if (!error) return;
    expect(error.message).toMatch(new RegExp(`^journal ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} line 2 is corrupt: `));
    expect(error.path).toBe(file);
    // A line that is JSON but not a journal entry is corruption too.
    await writeFile(file, [lines[0], '{"type":"nope","at":1}', lines[1], ""].join("\n"));
    await expect(store.readJournal("r3")).rejects.toThrow(`journal ${file} line 2 is corrupt`);
  });

  it("a corrupt complete line just before a torn last line is still an error", async () => {
    const store = await tempStore();
    await store.createRun(runRecord("r4"));
    const file = join(store.runDir("r4"), "journal.jsonl");
    const lines = ENTRIES.slice(0, 2).map((e) => JSON.stringify(e));
    // Line 2 is complete (it ends with a newline) but corrupt; line 3 is the torn tail.
    await writeFile(file, [lines[0], "{corrupt", lines[1]!.slice(0, 10)].join("\n"));
    await expect(store.readJournal("r4")).rejects.toThrow(`journal ${file} line 2 is corrupt`);
  });

  it("creates, reads and lists runs; a run id is created once", async () => {
    const store = await tempStore();
    expect(await store.listRuns()).toEqual([]);
    for (const id of ["20260102-000000-bbbbbb", "20260101-000000-aaaaaa"]) await store.createRun(runRecord(id));
    expect((await store.listRuns()).map((r) => r.id)).toEqual(["20260101-000000-aaaaaa", "20260102-000000-bbbbbb"]);
    expect(await store.getRun("20260101-000000-aaaaaa")).toEqual(runRecord("20260101-000000-aaaaaa"));
    await expect(store.createRun(runRecord("20260101-000000-aaaaaa"))).rejects.toThrow(`run "20260101-000000-aaaaaa" already exists in ${store.home}`);
    await expect(store.getRun("nope")).rejects.toThrow(RunNotFoundError);
    await expect(store.getRun("../../etc")).rejects.toThrow(RunNotFoundError);
    await expect(store.createRun(runRecord("../escape"))).rejects.toThrow('invalid run id "../escape"');
    expect(await readdir(join(store.home, "runs", "20260101-000000-aaaaaa"))).toEqual(["run.json"]);
  });

  it("stores and lists models and artifacts", async () => {
    const store = await tempStore();
    const model = (id: string): ModelRecord => ({
      id,
      name: `n-${id}`,
      path: `/m/${id}`,
      framework: "transformers",
      cluster: "local",
      runId: "r",
      step: "s",
      attempt: 1,
      simulated: true,
      createdAt: "now",
    });
    await store.putModel(model("model_b"));
    await store.putModel(model("model_a"));
    expect((await store.listModels()).map((m) => m.id)).toEqual(["model_a", "model_b"]);
    expect(await store.getModel("model_a")).toEqual(model("model_a"));
    expect(await store.getModel("model_zzz")).toBeUndefined();
    await store.putArtifact({ id: "artifact_1", name: "recipe", path: "/r.yaml", cluster: "local", runId: "r", step: "s", attempt: 1, createdAt: "now" });
    expect((await store.listArtifacts()).map((a) => a.name)).toEqual(["recipe"]);
  });

  it("a corrupt record file is an error naming it", async () => {
    const store = await tempStore();
    await store.putModel({ id: "model_x", name: "n", path: "/p", framework: "f", cluster: "c", runId: "r", step: "s", attempt: 1, simulated: false, createdAt: "now" });
    const file = join(store.home, "models", "model_x.json");
    await writeFile(file, "{");
    await expect(store.getModel("model_x")).rejects.toThrow(`store record ${file} is corrupt`);
  });

  it("attempt directories are per run, step and attempt", async () => {
    const store = await tempStore();
    await store.createRun(runRecord("r5"));
    const dir = await store.attemptDir("r5", "step-1", 2);
    expect(dir).toBe(join(store.home, "runs", "r5", "steps", "step-1", "attempt-2"));
    expect(await readdir(dir)).toEqual([]);
  });
});

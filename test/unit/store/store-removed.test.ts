/**
 * A store removed or made unwritable while in use fails loudly with a StoreError: writes never
 * go to deleted files (an open fd to an unlinked journal keeps accepting them) and never
 * re-create a removed store behind the user's back. A run whose store goes away mid-run rejects
 * with that StoreError and its running jobs are cancelled.
 *
 * "Unwritable" is covered by replacing a directory with a file (ENOTDIR): tests run as root, for
 * whom a read-only mode does not block writes.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import { StoreError } from "../../../src/errors.js";
import { FileStore } from "../../../src/store/file-store.js";
import type { ModelRecord, RunRecord } from "../../../src/store/records.js";
import { isAlive, runLocally, shTask, tempDir, tempStore, waitFor } from "../helpers.js";

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

const model: ModelRecord = { id: "model_x", name: "n", path: "/p", framework: "f", cluster: "c", runId: "r", step: "s", attempt: 1, simulated: false, createdAt: "now" };

describe("store removed or unwritable while in use", () => {
  it("a journal append after the run directory was removed rejects with a StoreError naming the journal", async () => {
    const store = await tempStore();
    await store.createRun(runRecord("r1"));
    await store.appendJournal("r1", { type: "run-started", at: 1, controller: "pid 1" });
    await rm(store.home, { recursive: true, force: true });
    const error = await store.appendJournal("r1", { type: "run-finished", at: 2, status: "succeeded" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: "E_STORE", path: join(store.runDir("r1"), "journal.jsonl") });
    expect((error as Error).message).toMatch(/journal .*journal\.jsonl.*(removed|gone)/);
    // Later appends fail too (never a silent success), and nothing re-created the store.
    await expect(store.appendJournal("r1", { type: "run-finished", at: 3, status: "succeeded" })).rejects.toMatchObject({ code: "E_STORE" });
    expect(existsSync(store.home)).toBe(false);
  });

  it("records written into a removed store reject and do not re-create it", async () => {
    const store = await tempStore();
    await store.createRun(runRecord("r1"));
    await rm(store.home, { recursive: true, force: true });
    await expect(store.putModel(model)).rejects.toMatchObject({ code: "E_STORE", path: store.home });
    await expect(store.putArtifact({ id: "artifact_1", name: "a", path: "/a", cluster: "c", runId: "r", step: "s", attempt: 1, createdAt: "now" })).rejects.toBeInstanceOf(StoreError);
    await expect(store.putCacheEntry({ key: "k", runId: "r1", step: "s", outputs: { models: [], artifacts: [], metrics: {}, simulated: false }, createdAt: "now" })).rejects.toBeInstanceOf(StoreError);
    await expect(store.attemptDir("r1", "s", 1)).rejects.toMatchObject({ code: "E_STORE" });
    expect(existsSync(store.home)).toBe(false);
  });

  it("a fresh store is still created on first use", async () => {
    const parent = await tempDir();
    const store = new FileStore({ home: join(parent, "a", "b") });
    await store.putModel(model);
    expect(await store.getModel("model_x")).toMatchObject({ id: "model_x" });
    await store.close();
  });

  it("a run whose store is removed while a step runs rejects with a StoreError", async () => {
    const store = await tempStore();
    const markers = await tempDir();
    const task = shTask("wait", 'touch "$1/started"; while [ ! -e "$1/go" ]; do sleep 0.05; done', { dir: markers });
    await task.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "store-removed" }).addStep({ name: "a", baseTaskId: task.id!, executionQueue: "cpu" });
    const done = runLocally(p, store);
    done.catch(() => undefined);
    await waitFor(() => existsSync(join(markers, "started")), "the step to start");
    await rm(store.home, { recursive: true, force: true });
    await writeFile(join(markers, "go"), "");
    const error = await done.then(
      (result) => new Error(`run resolved ${result.status} although its store is gone`),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).path).toContain(store.home);
    expect((error as Error).message).toContain(store.home);
    expect(existsSync(store.home)).toBe(false);
  });

  it("a run whose run directory is replaced by a file fails on its own and cancels its running job", async () => {
    const store = await tempStore();
    const markers = await tempDir();
    const task = shTask("long", 'echo $$ > "$1/pid"; exec sleep 60', { dir: markers });
    await task.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "store-unwritable" }).addStep({ name: "a", baseTaskId: task.id!, executionQueue: "cpu" });
    let runId: string | undefined;
    const done = runLocally(p, store, { onEvent: (e) => (runId = e.runId) });
    done.catch(() => undefined);
    const pidFile = join(markers, "pid");
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").endsWith("\n"), "the job's pid");
    const pid = Number(readFileSync(pidFile, "utf8"));
    expect(isAlive(pid)).toBe(true);
    const runDir = store.runDir(runId!);
    await rm(runDir, { recursive: true, force: true });
    await writeFile(runDir, "not a directory");
    // Nothing of the run writes by itself (the job runs 60 s): the run must notice on its own.
    const error = await done.then(
      (result) => new Error(`run resolved ${result.status} although its run directory is gone`),
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "E_STORE" });
    expect((error as StoreError).path).toContain(runDir);
    await waitFor(() => !isAlive(pid), `job ${pid} to be cancelled`, 10_000);
  });

  it("a store whose runs directory became a file refuses new runs with a StoreError", async () => {
    const store = await tempStore();
    await rm(join(store.home, "runs"), { recursive: true, force: true });
    await mkdir(store.home, { recursive: true });
    await writeFile(join(store.home, "runs"), "x");
    await expect(store.createRun(runRecord("r2"))).rejects.toBeInstanceOf(StoreError);
  });
});

/**
 * A job adopted after a controller crash is still the run's job: a resumed controller waits for
 * it even when it has nothing else to do, and a resumed controller that is cancelled kills it and
 * records it as cancelled (not lost, not retried).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRun } from "../../../../src/api/create-run.js";
import { driveRun } from "../../../../src/api/drive-run.js";
import { Pipeline } from "../../../../src/api/pipeline.js";
import type { RunEvent } from "../../../../src/runner/run-types.js";
import { FileStore } from "../../../../src/store/file-store.js";
import { Task } from "../../../../src/tasks/custom-task.js";
import { isAlive, localCluster, tempDir, waitFor } from "../../helpers.js";
import { finishedAttempts, markerLines, markerTask, spawnTsx } from "./durable-helpers.js";

/** Store, markers, and a pipeline `long` (sh: marker line, then `script`) → `after` (marker step). */
async function crashWorld(script: string, policy: { timeLimit?: string } = {}) {
  const home = await tempDir("gpu-dag-adopt-");
  const markers = await tempDir("gpu-dag-markers-");
  const store = new FileStore({ home });
  const marker = markerTask(markers);
  await marker.createTask({ store });
  const long = new Task({
    projectName: "durable",
    taskName: "long",
    command: ["sh", "-c", `echo "$GPU_DAG_ATTEMPT $$" >> "$1/long"; ${script}`, "job", "{markers}"],
    parameters: { markers },
  });
  await long.createTask({ store });
  const p = new Pipeline({ projectName: "durable", pipelineName: "adopt", defaults: { executionQueue: "cpu" } });
  p.addStep({ name: "long", baseTaskId: long.id!, ...policy });
  p.addStep({ name: "after", baseTaskId: marker.id!, parents: ["long"], parameterOverride: { step: "after" } });
  const { runId } = await createRun(p, { store, cluster: localCluster() });
  /** Starts a controller in a child process, waits until `long` runs, SIGKILLs the controller. */
  const crashWhileLongRuns = async () => {
    const child = spawnTsx(["test/fixtures/durable-controller.ts", home, runId, "fresh"]);
    await waitFor(async () => (await markerLines(markers, "long")).length === 1, "the long job to start", 20_000);
    await waitFor(async () => (await readFile(join(store.runDir(runId), "journal.jsonl"), "utf8")).includes('"job-started"'), "job-started in the journal", 20_000);
    child.kill("SIGKILL");
    await child.exited;
    return Number((await markerLines(markers, "long"))[0]!.split(" ")[1]);
  };
  return { home, markers, store, runId, crashWhileLongRuns };
}

describe("adopted jobs after a crash", () => {
  it("a resumed controller (own process) whose only work is an adopted job waits for it to the end", { timeout: 30_000 }, async () => {
    const { home, markers, store, runId, crashWhileLongRuns } = await crashWorld("sleep 4"); // outlives the resumed controller's start-up
    const pid = await crashWhileLongRuns();
    const resumed = spawnTsx(["test/fixtures/durable-controller.ts", home, runId, "resume"]);
    await waitFor(async () => (await store.readJournal(runId)).filter((e) => e.type === "run-started").length === 2, "the resumed controller to start", 20_000);
    expect(isAlive(pid), "the job is still running when the resumed controller adopts it").toBe(true);
    const exit = await resumed.exited;
    expect(exit.code, resumed.output()).toBe(0);
    expect(resumed.output()).toContain('{"status":"succeeded"}');
    expect(await markerLines(markers, "long")).toHaveLength(1);
    expect(await markerLines(markers, "after")).toHaveLength(1);
    expect((await finishedAttempts(store, runId, "long")).map((e) => [e.attempt, e.status])).toEqual([[1, "succeeded"]]);
    await store.close();
  });

  it("cancelling the resumed run kills the adopted job and records it cancelled", { timeout: 30_000 }, async () => {
    const { markers, store, runId, crashWhileLongRuns } = await crashWorld("sleep 30");
    const pid = await crashWhileLongRuns();
    expect(isAlive(pid)).toBe(true);

    // A resumed controller adopts the job, then the run is cancelled.
    const abort = new AbortController();
    const events: RunEvent[] = [];
    const resumed = driveRun(runId, { store, resume: true, signal: abort.signal, onEvent: (e) => events.push(e) });
    await new Promise((r) => setTimeout(r, 500));
    abort.abort();
    const result = await resumed;
    expect(result.status).toBe("cancelled");
    expect(result.steps["long"]).toMatchObject({ status: "cancelled", attempts: 1 });
    expect(result.steps["after"]!.status).toBe("cancelled");
    await waitFor(() => !isAlive(pid), "the adopted job to be killed", 10_000);
    expect((await finishedAttempts(store, runId, "long")).map((e) => e.status)).toEqual(["cancelled"]);
    expect(events.filter((e) => e.type === "step:failure")).toEqual([]);
    expect(await markerLines(markers, "long")).toHaveLength(1);
    await store.close();
  });

  it("an adopted job keeps its step time limit, counted from its start: killed, failed, children skipped", { timeout: 30_000 }, async () => {
    const { markers, store, runId, crashWhileLongRuns } = await crashWorld("sleep 30", { timeLimit: "3s" });
    const pid = await crashWhileLongRuns();
    const started = Date.now();
    const result = await driveRun(runId, { store, resume: true });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.status).toBe("failed");
    expect(result.steps["long"]).toMatchObject({ status: "failed", attempts: 1, reason: expect.stringMatching(/^time limit of 3s exceeded/) });
    expect(result.steps["after"]).toMatchObject({ status: "skipped", reason: 'parent "long" failed' });
    await waitFor(() => !isAlive(pid), "the adopted job to be killed", 10_000);
    expect(await markerLines(markers, "after")).toHaveLength(0);
    await store.close();
  });
});

/**
 * What a resumed controller rebuilds from the journal after a crash: retry budgets (a crash does
 * not grant fresh retries; a finished run resumed by the user gets a new round), and the full
 * job environment of an attempt that was planned but never submitted.
 */
import { describe, expect, it } from "vitest";
import { createRun } from "../../../../src/api/create-run.js";
import { driveRun } from "../../../../src/api/drive-run.js";
import { Pipeline } from "../../../../src/api/pipeline.js";
import { Task } from "../../../../src/tasks/custom-task.js";
import { localCluster, tempStore } from "../../helpers.js";

async function alwaysFailing() {
  const store = await tempStore();
  const task = new Task({ projectName: "budget", taskName: "fail", command: ["sh", "-c", "exit 4"] });
  await task.createTask({ store });
  const pipeline = new Pipeline({ projectName: "budget", pipelineName: "budget" });
  pipeline.addStep({ name: "flaky", baseTaskId: task.id!, executionQueue: "cpu", retryOnFailure: 2 });
  const { runId } = await createRun(pipeline, { store, cluster: localCluster() });
  return { store, runId };
}

describe("retry budget across a controller crash", () => {
  it("continues the budget after a crash (no run-finished in the journal)", async () => {
    const { store, runId } = await alwaysFailing();
    // What a controller killed after two failed attempts leaves: no run-finished.
    await store.appendJournal(runId, { type: "run-started", at: 1, controller: "pid 1" });
    for (const attempt of [1, 2]) {
      await store.appendJournal(runId, {
        type: "attempt-planned",
        at: 2,
        step: "flaky",
        attempt,
        jobName: `gd-${runId}-flaky-a${attempt}`,
        argv: ["sh", "-c", "exit 4"],
        parameters: {},
        queue: "cpu",
      });
      await store.appendJournal(runId, { type: "attempt-finished", at: 3, step: "flaky", attempt, status: "failed", exitCode: 4, infrastructure: false, reason: "exited with code 4" });
    }
    const result = await driveRun(runId, { store, resume: true, retryBackoffMs: 10 });
    expect(result.steps["flaky"]!.status).toBe("failed");
    // 2 retries allowed in all: attempts 1 and 2 before the crash, attempt 3 after it, no more.
    expect(result.steps["flaky"]!.attempts).toBe(3);
  });

  it("gives a finished run's failed step a new round when the user resumes it", async () => {
    const { store, runId } = await alwaysFailing();
    const first = await driveRun(runId, { store, retryBackoffMs: 10 });
    expect(first.steps["flaky"]!.attempts).toBe(3);
    const again = await driveRun(runId, { store, resume: true, retryBackoffMs: 10 });
    expect(again.steps["flaky"]!.attempts).toBe(6);
  });
});

describe("an attempt planned but never submitted before a crash", () => {
  it("is submitted on resume with the task's own environment (rendered again, not just the cluster's)", async () => {
    const store = await tempStore();
    const task = new Task({
      projectName: "resume",
      taskName: "env",
      command: ["sh", "-c", 'test "$STEP_FLAVOUR" = vanilla || { echo "STEP_FLAVOUR=$STEP_FLAVOUR" >&2; exit 9; }'],
      env: { STEP_FLAVOUR: "vanilla" },
    });
    await task.createTask({ store });
    const pipeline = new Pipeline({ projectName: "resume", pipelineName: "env" });
    pipeline.addStep({ name: "only", baseTaskId: task.id!, executionQueue: "cpu" });
    const { runId } = await createRun(pipeline, { store, cluster: localCluster() });
    await store.appendJournal(runId, { type: "run-started", at: 1, controller: "pid 1" });
    await store.appendJournal(runId, {
      type: "attempt-planned",
      at: 2,
      step: "only",
      attempt: 1,
      jobName: `gd-${runId}-only-a1`,
      argv: ["sh", "-c", 'test "$STEP_FLAVOUR" = vanilla || { echo "STEP_FLAVOUR=$STEP_FLAVOUR" >&2; exit 9; }'],
      parameters: {},
      queue: "cpu",
    });
    const result = await driveRun(runId, { store, resume: true });
    expect(result.steps["only"]!.status, result.steps["only"]!.reason).toBe("succeeded");
    expect(result.steps["only"]!.attempts).toBe(1);
  });
});

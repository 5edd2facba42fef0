/**
 * Aborting a run kills the whole process group of each running job, grandchildren included.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import type { RunEvent } from "../../../src/runner/run-types.js";
import { isAlive, recordingTask, runLocally, shTask, tempStore, waitFor } from "../helpers.js";

describe("abort", () => {
  it("kills the job's process group (a backgrounded grandchild too); the run ends cancelled", async () => {
    const store = await tempStore();
    const spawner = shTask("spawner", 'sleep 60 & echo $! > "$GPU_DAG_OUTPUT_DIR/grandchild.pid"; wait');
    await spawner.createTask({ store });
    const after = recordingTask("after");
    await after.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "abort" })
      .addStep({ name: "spawner", baseTaskId: spawner.id!, executionQueue: "cpu" })
      .addStep({ name: "after", baseTaskId: after.id!, parents: ["spawner"], executionQueue: "cpu" });
    const controller = new AbortController();
    const events: RunEvent[] = [];
    let pidFile: string | undefined;
    const done = runLocally(p, store, {
      signal: controller.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === "step:start" && e.step === "spawner") {
          const run = e.runId;
          pidFile = join(store.runDir(run), "steps", "spawner", "attempt-1", "grandchild.pid");
        }
      },
    });
    await waitFor(() => pidFile !== undefined && existsSync(pidFile) && readFileSync(pidFile, "utf8").endsWith("\n"), "the grandchild's pid file");
    const grandchild = Number(readFileSync(pidFile!, "utf8"));
    const job = JSON.parse(readFileSync(join(pidFile!, "..", "job.json"), "utf8")) as { pid: number };
    expect(isAlive(grandchild)).toBe(true);
    expect(isAlive(job.pid)).toBe(true);
    // The grandchild is in the job's process group, not ours.
    const pgid = Number(readFileSync(`/proc/${grandchild}/stat`, "utf8").split(") ")[1]!.split(" ")[2]);
    expect(pgid).toBe(job.pid);

    controller.abort();
    const result = await done;
    expect(result.status).toBe("cancelled");
    expect(result.steps["spawner"]).toMatchObject({ status: "cancelled" });
    expect(result.steps["after"]).toMatchObject({ status: "cancelled", reason: "run was cancelled", attempts: 0 });
    await waitFor(() => !isAlive(grandchild) && !isAlive(job.pid), `grandchild ${grandchild} and job ${job.pid} to be gone`, 3000);
    expect(events.some((e) => e.type === "step:start" && e.step === "after")).toBe(false);
    const journal = await store.readJournal(result.runId);
    expect(journal.at(-1)).toMatchObject({ type: "run-finished", status: "cancelled" });
    expect(journal.find((e) => e.type === "attempt-finished" && e.step === "spawner")).toMatchObject({ status: "cancelled" });
  });

  it("a signal aborted before the run starts submits nothing", async () => {
    const store = await tempStore();
    const task = recordingTask("never");
    await task.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "pre-aborted" }).addStep({ name: "a", baseTaskId: task.id!, executionQueue: "cpu" });
    const controller = new AbortController();
    controller.abort();
    const result = await runLocally(p, store, { signal: controller.signal });
    expect(result.status).toBe("cancelled");
    expect(result.steps["a"]).toMatchObject({ status: "cancelled", attempts: 0 });
    expect((await store.readJournal(result.runId)).some((e) => e.type === "job-submitted")).toBe(false);
  });
});

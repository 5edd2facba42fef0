/**
 * The local backend's exactly-once guard, deterministically: a controller that died after
 * forking a job but before recording its pid (job.json) leaves a job nobody knows of. The next
 * controller resubmits the attempt by name; the job must not run a second time.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLAIM_FILE, JOB_FILE, LocalBackend } from "../../../../src/backends/local/local-backend.js";
import type { JobSpec, JobState } from "../../../../src/backends/queue-backend.js";
import { tempDir, waitFor } from "../../helpers.js";
import { markerLines } from "./durable-helpers.js";

async function specIn(dir: string, markers: string, secs: number): Promise<JobSpec> {
  return {
    jobName: "gd-run-step-a1",
    runId: "run",
    step: "step",
    attempt: 1,
    queue: "cpu",
    resources: { gpus: 0, nodes: 1 },
    argv: ["sh", "-c", `echo "$$" >> "${markers}/step"; sleep ${secs}; echo done`],
    env: {},
    secretEnv: {},
    attemptDir: dir,
    priority: 0,
  };
}

function ended(backend: LocalBackend, id: string): Promise<JobState> {
  return new Promise((resolve) => {
    const off = backend.onUpdate((jobId, state) => {
      if (jobId === id && state.status !== "queued" && state.status !== "running") {
        off();
        resolve(state);
      }
    });
  });
}

describe("local backend: one process per attempt across controller crashes", () => {
  it("a resubmission by name adopts a job whose pid was never recorded (claim file)", async () => {
    const dir = await tempDir();
    const markers = await tempDir();
    const spec = await specIn(dir, markers, 0.4);
    const first = new LocalBackend({ gpus: 0 });
    await first.submit([spec]);
    await waitFor(async () => (await markerLines(markers, "step")).length === 1, "the first job to start");
    // The first controller "died" between fork and writing job.json.
    await rm(join(dir, JOB_FILE));
    await first.close();

    const second = new LocalBackend({ gpus: 0 });
    const end = ended(second, spec.jobName);
    const [job] = await second.submit([spec], { reuseExisting: true });
    expect(job!.backendJobId).toBe(spec.jobName);
    expect((await second.poll([spec.jobName])).get(spec.jobName)!.status).toBe("running");
    expect(await end).toMatchObject({ status: "succeeded", exitCode: 0 });
    expect(await markerLines(markers, "step")).toHaveLength(1);
    await second.close();
  });

  it("a second wrapper for a claimed attempt runs nothing and follows the claimant to its exit code", async () => {
    const dir = await tempDir();
    const markers = await tempDir();
    const spec = await specIn(dir, markers, 0.4);
    const first = new LocalBackend({ gpus: 0 });
    await first.submit([spec]);
    await waitFor(async () => (await markerLines(markers, "step")).length === 1, "the first job to start");
    await first.close();

    // Not even reuseExisting: a plain second start of the same attempt (the worst race).
    const second = new LocalBackend({ gpus: 0 });
    const end = ended(second, spec.jobName);
    await second.submit([spec]);
    expect(await end).toMatchObject({ status: "succeeded", exitCode: 0 });
    expect(await markerLines(markers, "step")).toHaveLength(1);
    // job.json now names the claimant, so a third controller adopts the right process.
    const { readFile } = await import("node:fs/promises");
    const claim = Number(await readFile(join(dir, CLAIM_FILE), "utf8"));
    expect(JSON.parse(await readFile(join(dir, JOB_FILE), "utf8")).pid).toBe(claim);
    await second.close();
  });

  it("a claimant that fails reports its own exit code to the follower", async () => {
    const dir = await tempDir();
    const markers = await tempDir();
    const spec = { ...(await specIn(dir, markers, 0.3)), argv: ["sh", "-c", `echo "$$" >> "${markers}/step"; sleep 0.3; exit 7`] };
    const first = new LocalBackend({ gpus: 0 });
    await first.submit([spec]);
    await waitFor(async () => (await markerLines(markers, "step")).length === 1, "the first job to start");
    await first.close();
    const second = new LocalBackend({ gpus: 0 });
    const end = ended(second, spec.jobName);
    await second.submit([spec]);
    expect(await end).toMatchObject({ status: "failed", exitCode: 7 });
    expect(await markerLines(markers, "step")).toHaveLength(1);
    await second.close();
  });
});

/**
 * LocalBackend edge cases the shared conformance suite does not reach: cancelling at once after
 * (or during) submission, GPU ids handed to jobs, the exit-code file.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalBackend } from "../../../../src/backends/local/local-backend.js";
import { isTerminal, type JobSpec, type JobState } from "../../../../src/backends/queue-backend.js";
import { tempDir, waitFor } from "../../helpers.js";

function spec(root: string, step: string, argv: string[], gpus = 0): JobSpec {
  const attemptDir = join(root, step);
  mkdirSync(attemptDir, { recursive: true });
  return { jobName: `gd-test-${step}-a1`, runId: "test", step, attempt: 1, queue: "q", resources: { gpus, nodes: 1 }, argv, env: {}, secretEnv: {}, attemptDir, priority: 0 };
}

function watch(backend: LocalBackend): Map<string, JobState> {
  const states = new Map<string, JobState>();
  backend.onUpdate((id, state) => states.set(id, state));
  return states;
}

describe("LocalBackend", () => {
  it("cancel right after submit resolves kills the job at once (its pid may not be known yet)", async () => {
    const root = await tempDir();
    const backend = new LocalBackend({ gpus: 0, killGraceSeconds: 1 });
    const states = watch(backend);
    const started = Date.now();
    const [job] = await backend.submit([spec(root, "now", ["sleep", "30"])]);
    await backend.cancel([job!.backendJobId]);
    await waitFor(() => states.has(job!.backendJobId) && isTerminal(states.get(job!.backendJobId)!), "the cancelled job to end", 5000);
    expect(states.get(job!.backendJobId)!.status).toBe("cancelled");
    expect(Date.now() - started).toBeLessThan(5000);
    await backend.close();
  });

  it("cancel in the same tick as submit (GPUs granted, process not yet started) ends the job cancelled", async () => {
    const root = await tempDir();
    const backend = new LocalBackend({ gpus: 1, killGraceSeconds: 1 });
    const states = watch(backend);
    const submitted = backend.submit([spec(root, "same-tick", ["sleep", "30"], 1)]);
    await backend.cancel(["gd-test-same-tick-a1"]);
    const [job] = await submitted;
    await waitFor(() => states.has(job!.backendJobId) && isTerminal(states.get(job!.backendJobId)!), "the cancelled job to end", 5000);
    expect(states.get(job!.backendJobId)!.status).toBe("cancelled");
    expect((await backend.poll([job!.backendJobId])).get(job!.backendJobId)!.status).toBe("cancelled");
    // Its GPU went back to the pool: the next job gets it.
    const [next] = await backend.submit([spec(root, "next", ["sh", "-c", 'printf "%s" "$CUDA_VISIBLE_DEVICES" > devices'], 1)]);
    await waitFor(() => states.get(next!.backendJobId)?.status === "succeeded", "the next job", 5000);
    expect(readFileSync(join(root, "next", "devices"), "utf8")).toBe("0");
    await backend.close();
  });

  it("gives each job CUDA_VISIBLE_DEVICES from the pool and records the exit code", async () => {
    const root = await tempDir();
    const backend = new LocalBackend({ gpus: ["3", "5"] });
    const states = watch(backend);
    const jobs = await backend.submit([
      spec(root, "two", ["sh", "-c", 'printf "%s" "$CUDA_VISIBLE_DEVICES" > devices; exit 4'], 2),
      spec(root, "none", ["sh", "-c", 'printf "%s" "$CUDA_VISIBLE_DEVICES" > devices'], 0),
    ]);
    await waitFor(() => jobs.every((j) => states.has(j.backendJobId) && isTerminal(states.get(j.backendJobId)!)), "both jobs", 5000);
    expect(readFileSync(join(root, "two", "devices"), "utf8")).toBe("3,5");
    expect(readFileSync(join(root, "none", "devices"), "utf8")).toBe("");
    expect(states.get(jobs[0]!.backendJobId)).toMatchObject({ status: "failed", exitCode: 4, infrastructure: false });
    expect(readFileSync(join(root, "two", "exit_code"), "utf8")).toBe("4");
    await backend.close();
  });
});

/**
 * Steps that became ready in the same tick go to the backend as one batch. An error of one job of
 * that batch belongs to that job's step alone: the other steps of the batch run; a failure of the
 * whole batch (the backend unreachable) is reported for every step with the real reason; job ids
 * come back matched by job name, not by position.
 *
 * The local-backend case is real (a GPU step on a machine whose pool has fewer GPUs than the
 * cluster config promised, next to a CPU step). The doubles wrap the real LocalBackend and only
 * change what submit() answers, to reach cases this machine cannot produce on demand (a Slurm
 * refusal of one job, a backend that answers out of order, an outage).
 */
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import { LocalBackend } from "../../../src/backends/local/local-backend.js";
import type { JobSpec, QueueBackend, SubmitOptions, SubmittedJob } from "../../../src/backends/queue-backend.js";
import { BackendError } from "../../../src/errors.js";
import type { FileStore } from "../../../src/store/file-store.js";
import { localCluster, recordingTask, runLocally, tempStore } from "../helpers.js";

/** A real LocalBackend whose submit() answers are changed by `answer` (a test double of a remote backend). */
class SubmitAnswerBackendDouble implements QueueBackend {
  readonly kind = "local";
  readonly batches: string[][] = [];
  readonly #local = new LocalBackend({ gpus: 0 });
  readonly #inner: QueueBackend = this.#local;
  constructor(readonly answer: (jobs: readonly JobSpec[], inner: LocalBackend, call: number) => Promise<SubmittedJob[]>) {}
  submit(jobs: readonly JobSpec[], _options?: SubmitOptions): Promise<SubmittedJob[]> {
    this.batches.push(jobs.map((j) => j.step));
    return this.answer(jobs, this.#local, this.batches.length);
  }
  poll: QueueBackend["poll"] = (ids) => this.#inner.poll(ids);
  onUpdate: QueueBackend["onUpdate"] = (listener) => this.#inner.onUpdate(listener);
  cancel: QueueBackend["cancel"] = (ids) => this.#inner.cancel(ids);
  logs: QueueBackend["logs"] = (id, options) => this.#inner.logs(id, options);
  collect: QueueBackend["collect"] = (id) => this.#inner.collect(id);
  adopt: QueueBackend["adopt"] = (spec, id) => this.#inner.adopt(spec, id);
  close = () => this.#inner.close();
}

/** Three root steps (one batch): `a`, `b`, `c`, each recording the attempt dir it ran in. */
async function threeRoots(store: FileStore, queues: Record<string, string> = {}): Promise<Pipeline> {
  const task = recordingTask("rec");
  await task.createTask({ store });
  const p = new Pipeline({ projectName: "unit", pipelineName: "batch" });
  for (const name of ["a", "b", "c"]) p.addStep({ name, baseTaskId: task.id!, executionQueue: queues[name] ?? "cpu" });
  return p;
}

describe("errors of a batch submission", () => {
  it("local backend: a GPU step the pool cannot hold fails under its own name; the CPU steps of its batch run", async () => {
    const store = await tempStore();
    // The cluster config promises 2 GPUs (so validation passes); the backend's pool has none.
    const pipeline = await threeRoots(store, { b: "q-x1" });
    const backend = new LocalBackend({ gpus: 0 });
    const result = await runLocally(pipeline, store, { cluster: localCluster({ gpus: 2 }), backend });
    await backend.close();
    expect(result.steps["b"]).toMatchObject({ status: "failed", attempts: 1 });
    expect(result.steps["b"]!.reason).toContain(`step "b"`);
    expect(result.steps["b"]!.reason).toContain("asks for 1 GPU(s) but this machine's pool has 0");
    for (const name of ["a", "c"]) {
      expect(result.steps[name], `${name}: ${result.steps[name]!.reason}`).toMatchObject({ status: "succeeded", attempts: 1 });
    }
  });

  it("a refusal of one job of the batch (double of a Slurm sbatch refusal) fails that step only, with its own reason", async () => {
    const store = await tempStore();
    const pipeline = await threeRoots(store);
    const backend = new SubmitAnswerBackendDouble(async (jobs, inner) => {
      const bad = jobs.find((j) => j.step === "b");
      if (bad) {
        throw new BackendError("double", `sbatch failed for 1 of ${jobs.length} job(s)`, {
          refused: new Map([[bad.jobName, { reason: "sbatch: error: invalid partition specified: nope", permanent: true }]]),
        });
      }
      return inner.submit(jobs);
    });
    const result = await runLocally(pipeline, store, { backend });
    await backend.close();
    expect(result.steps["b"]).toMatchObject({ status: "failed", attempts: 1 });
    expect(result.steps["b"]!.reason).toContain("invalid partition specified: nope");
    for (const name of ["a", "c"]) {
      expect(result.steps[name], `${name}: ${result.steps[name]!.reason}`).toMatchObject({ status: "succeeded", attempts: 1 });
    }
    expect(backend.batches).toEqual([
      ["a", "b", "c"],
      ["a", "c"],
    ]);
  });

  it("a failure of the whole batch is reported for every step, with the real reason", async () => {
    const store = await tempStore();
    const pipeline = await threeRoots(store);
    const backend = new SubmitAnswerBackendDouble(async () => {
      throw new BackendError("double", "ssh: connect to host login1 port 22: Connection refused", { permanent: true });
    });
    const result = await runLocally(pipeline, store, { backend });
    await backend.close();
    for (const name of ["a", "b", "c"]) {
      expect(result.steps[name]).toMatchObject({ status: "failed" });
      expect(result.steps[name]!.reason).toBe("submission failed: ssh: connect to host login1 port 22: Connection refused");
    }
  });

  it("job ids are matched to steps by job name, whatever order the backend answers in", async () => {
    const store = await tempStore();
    const pipeline = await threeRoots(store);
    const backend = new SubmitAnswerBackendDouble(async (jobs, inner) => (await inner.submit(jobs)).reverse());
    const result = await runLocally(pipeline, store, { backend });
    await backend.close();
    for (const name of ["a", "b", "c"]) {
      expect(result.steps[name]).toMatchObject({ status: "succeeded" });
      expect(result.steps[name]!.jobId).toMatch(new RegExp(`-${name}-a1$`));
    }
  });
});

/**
 * The local GPU pool never over-subscribes: checked from the CUDA_VISIBLE_DEVICES and the
 * start/end timestamps that concurrent jobs recorded themselves.
 */
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import { PipelineValidationError } from "../../../src/errors.js";
import { type JobRecord, localCluster, mulberry32, readRecord, recordingTask, runLocally, tempStore } from "../helpers.js";

describe("GPU pool through the runner", () => {
  it("3 fake GPUs, 12 steps asking 1–2: devices of overlapping steps never intersect, never more than 3 in use", async () => {
    const store = await tempStore();
    const task = recordingTask("gpu");
    await task.createTask({ store });
    const rand = mulberry32(3);
    const demand = new Map<string, number>();
    const p = new Pipeline({ projectName: "unit", pipelineName: "gpus" });
    for (let i = 0; i < 12; i++) {
      const gpus = rand() < 0.5 ? 1 : 2;
      const name = `g${i}`;
      demand.set(name, gpus);
      p.addStep({ name, baseTaskId: task.id!, executionQueue: `q-x${gpus}`, parameterOverride: { sleep: 120 + Math.floor(rand() * 120) } });
    }
    expect(new Set(demand.values())).toEqual(new Set([1, 2]));
    const result = await runLocally(p, store, { cluster: localCluster({ gpus: 3 }) });
    expect(result.status).toBe("succeeded");

    const jobs: Array<JobRecord & { name: string; ids: string[] }> = [];
    for (const [name, gpus] of demand) {
      const record = await readRecord(result.steps[name]!.attemptDir);
      const ids = record.devices.split(",");
      expect(ids, `${name} devices`).toHaveLength(gpus);
      expect(new Set(ids).size).toBe(gpus);
      for (const id of ids) expect(["0", "1", "2"]).toContain(id);
      jobs.push({ ...record, name, ids });
    }
    for (const a of jobs) {
      // Everything running at the instant `a` started.
      const running = jobs.filter((b) => b.start <= a.start && a.start < b.end);
      const inUse = running.flatMap((b) => b.ids);
      expect(inUse.length, `GPUs in use when ${a.name} started`).toBeLessThanOrEqual(3);
      expect(new Set(inUse).size, `a device shared when ${a.name} started: ${running.map((b) => `${b.name}=${b.devices}`).join(" ")}`).toBe(inUse.length);
      for (const b of jobs) {
        if (a === b || !(a.start < b.end && b.start < a.end)) continue;
        expect(
          a.ids.filter((id) => b.ids.includes(id)),
          `${a.name} and ${b.name} overlap in time`,
        ).toEqual([]);
      }
    }
    // The pool was actually contended: jobs held GPUs side by side (as the controller saw them,
    // spawn to exit) and some had to wait for GPUs to come back.
    const spans = [...demand.keys()].map((n) => [result.steps[n]!.startedAt!, result.steps[n]!.endedAt!] as const);
    expect(spans.some((a, i) => spans.some((b, j) => i !== j && a[0] < b[1] && b[0] < a[1]))).toBe(true);
    // biome-ignore lint/complexity/useMathMinMax: the ends are bigints, which Math.min does not take
    const firstEnd = jobs.reduce((m, j) => (j.end < m ? j.end : m), jobs[0]!.end);
    expect(jobs.some((j) => j.start > firstEnd)).toBe(true);
  });

  it("a step asking for more GPUs than the pool has is refused before the first job, even below other steps", async () => {
    const store = await tempStore();
    const task = recordingTask("gpu");
    await task.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "too-big" })
      .addStep({ name: "first", baseTaskId: task.id!, executionQueue: "q-x1" })
      .addStep({ name: "big", baseTaskId: task.id!, parents: ["first"], executionQueue: "q-x4" });
    const error = await runLocally(p, store, { cluster: localCluster({ gpus: 3 }) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toContain(`step "big", executionQueue: queue "q-x4" asks for 4 GPUs but this machine's pool has 3 (gpus in the local cluster config)`);
    expect(await store.listRuns()).toEqual([]); // nothing recorded, so nothing ran
  });

  it("a pool of 0 GPUs refuses GPU queues at once and says where the count came from", async () => {
    const store = await tempStore();
    const task = recordingTask("gpu");
    await task.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "no-gpus" }).addStep({ name: "g", baseTaskId: task.id!, executionQueue: "oneshot-a100x1" });
    const saved = process.env["CUDA_VISIBLE_DEVICES"];
    process.env["CUDA_VISIBLE_DEVICES"] = "";
    try {
      const error = await runLocally(p, store, { cluster: { executor: "local" } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as Error).message).toContain(`queue "oneshot-a100x1" asks for 1 GPU but this machine's pool has 0 (detected from CUDA_VISIBLE_DEVICES)`);
    } finally {
      if (saved === undefined) delete process.env["CUDA_VISIBLE_DEVICES"];
      else process.env["CUDA_VISIBLE_DEVICES"] = saved;
    }
  });
});

/**
 * The shared QueueBackend conformance suite, run unchanged against the LocalBackend.
 */
import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend } from "../../../src/backends/local/local-backend.js";
import { type JobSpec, jobNameFor } from "../../../src/backends/queue-backend.js";
import { runQueueBackendConformance } from "../../conformance/queue-backend-conformance.js";

/** The suite's queue runs at most this many jobs at once (the backend's `maxParallel`). */
const MAX_PARALLEL = 2;

runQueueBackendConformance("local", async () => {
  const root = await mkdtemp(join(tmpdir(), "gpu-dag-local-conformance-"));
  const runId = `conf-${Date.now().toString(36)}`;
  const options = { gpus: 0, maxParallel: MAX_PARALLEL, killGraceSeconds: 2 };
  const backends: LocalBackend[] = [new LocalBackend(options)];
  const ids: string[] = [];
  return {
    backend: backends[0]!,
    maxConcurrent: MAX_PARALLEL,
    jobFileDirs: [],
    makeSpec: (o): JobSpec => {
      const attemptDir = join(root, o.step);
      mkdirSync(attemptDir, { recursive: true });
      const jobName = jobNameFor(runId, o.step, 1);
      ids.push(jobName);
      return {
        jobName,
        runId,
        step: o.step,
        attempt: 1,
        queue: "conformance",
        resources: { gpus: 0, nodes: 1, ...(o.timeLimitSeconds !== undefined ? { timeLimitSeconds: o.timeLimitSeconds } : {}) },
        argv: o.argv,
        env: o.env ?? {},
        secretEnv: o.secretEnv ?? {},
        attemptDir,
        priority: 0,
      };
    },
    reopen: async () => {
      const backend = new LocalBackend(options);
      backends.push(backend);
      return backend;
    },
    unknownJobId: "gd-never-issued-a1",
    cleanup: async () => {
      for (const backend of backends) {
        await backend.cancel(ids);
        await backend.close();
      }
      await rm(root, { recursive: true, force: true });
    },
  };
});

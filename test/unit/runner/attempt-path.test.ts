/**
 * One attempt path: the dry run and the run build a step's job on the same code
 * (`runner/attempt-spec.ts`). A pipeline is rendered with the dry run, then run under the same run
 * id on the real local backend (wrapped to record the specs it was given); for every step the dry
 * run's job — argv, env, resources, job name, queue, attempt directory — is the journaled one
 * (`attempt-planned`) and the one the backend got. A step whose command holds a parent's output
 * differs only there: the dry run shows the placeholder's text, the run its value.
 */
import { describe, expect, it } from "vitest";
import { buildEnvironment } from "../../../src/api/build-environment.js";
import { Pipeline } from "../../../src/api/pipeline.js";
import type { JobSpec, QueueBackend } from "../../../src/backends/queue-backend.js";
import { planDryRun } from "../../../src/cli/dry-run.js";
import { ClusterConfigSchema } from "../../../src/config/cluster-config.js";
import { Task } from "../../../src/tasks/custom-task.js";
import { tempStore } from "../helpers.js";

/** The real backend of `config`, recording every spec passed to `submit`. */
function recording(inner: QueueBackend): { backend: QueueBackend; submitted: JobSpec[] } {
  const submitted: JobSpec[] = [];
  const backend = new Proxy(inner, {
    get(target, key) {
      if (key === "submit") {
        return (jobs: readonly JobSpec[], options?: Parameters<QueueBackend["submit"]>[1]) => {
          submitted.push(...jobs);
          return target.submit(jobs, options);
        };
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { backend, submitted };
}

describe("the dry run's jobs are the run's jobs", { timeout: 60_000 }, () => {
  it("same argv, env, resources, names and attempt dirs; parent-output placeholders differ only in their text", async () => {
    const store = await tempStore();
    // A secret the cluster requires: the run's jobs get it apart from env; the dry run names it only.
    const secret = "attempt-path-secret-4711";
    process.env["GPU_DAG_TEST_ATTEMPT_TOKEN"] = secret;
    const config = {
      executor: "local" as const,
      gpus: 0,
      env: { CLUSTER_SETTING: "from-cluster" },
      requiredEnv: ["GPU_DAG_TEST_ATTEMPT_TOKEN"],
      queues: { cpu: { gpus: 0, time: "1h" } },
    };
    const prepare = new Task({
      projectName: "unit",
      taskName: "prepare",
      command: ["sh", "-c", 'echo "$1 $TASK_SETTING" && printf \'{"metrics":{"rows":7} }\' > "$GPU_DAG_OUTPUT_DIR/outputs.json"', "job", "{greeting}"],
      parameters: { greeting: "hello" },
      env: { TASK_SETTING: "from-task" },
    });
    const train = new Task({
      projectName: "unit",
      taskName: "train",
      command: ["sh", "-c", 'echo "train on $1 rows" && printf \'{"metrics":{"score":1} }\' > "$GPU_DAG_OUTPUT_DIR/outputs.json"', "job", "{rows}"],
      parameters: { rows: 0 },
    });
    await prepare.createTask({ store });
    await train.createTask({ store });
    const pipeline = new Pipeline({ projectName: "unit", pipelineName: "attempt-path" })
      .addParameter("greeting", "hi")
      // The step's limit (60 s) is under the queue's hour: both paths take the smaller.
      .addStep({ name: "prepare", baseTaskId: prepare.id!, executionQueue: "cpu", timeLimit: 60, parameterOverride: { greeting: "${pipeline.greeting}" } })
      .addStep({ name: "train", baseTaskId: train.id!, executionQueue: "cpu", parameterOverride: { rows: "${prepare.metrics.rows}" } });
    const runId = "attempt-path-run";

    const dry = await planDryRun(pipeline, { store, home: store.home, cluster: config, runId, parameters: { greeting: "hey" } });

    const { backend: inner } = await buildEnvironment("custom", ClusterConfigSchema.parse(config));
    const { backend, submitted } = recording(inner);
    try {
      const result = await pipeline.executeLocally({ store, home: store.home, cluster: config, runId, parameters: { greeting: "hey" }, backend, retryBackoffMs: 10 });
      expect(result.status, JSON.stringify(result.steps)).toBe("succeeded");
    } finally {
      await inner.close();
      delete process.env["GPU_DAG_TEST_ATTEMPT_TOKEN"];
    }
    const planned = (await store.readJournal(runId)).flatMap((e) => (e.type === "attempt-planned" ? [e] : []));
    expect(planned.map((e) => e.step)).toEqual(["prepare", "train"]);
    expect(submitted.map((s) => s.step)).toEqual(["prepare", "train"]);

    const values: Record<string, string> = { "${prepare.metrics.rows}": "7" };
    for (const step of dry.steps) {
      const job = submitted.find((s) => s.step === step.name)!;
      const entry = planned.find((e) => e.step === step.name)!;
      const filled = step.argv.map((a) => step.unresolved.reduce((text, p) => text.replaceAll(p, values[p]!), a));
      expect(filled, step.name).toEqual([...job.argv]);
      expect(entry.argv, step.name).toEqual([...job.argv]);
      expect(step.env, step.name).toEqual(job.env);
      expect(step.resources, step.name).toEqual(job.resources);
      expect(step.jobName, step.name).toBe(job.jobName);
      expect(entry.jobName, step.name).toBe(job.jobName);
      expect(step.queue, step.name).toBe(job.queue);
      expect(entry.queue, step.name).toBe(job.queue);
      expect(step.attemptDir, step.name).toBe(job.attemptDir);
      expect(job.attempt, step.name).toBe(1);
      expect(job.secretEnv, step.name).toEqual({ GPU_DAG_TEST_ATTEMPT_TOKEN: secret });
      expect(step.secretEnv, step.name).toEqual(["GPU_DAG_TEST_ATTEMPT_TOKEN"]);
      expect(JSON.stringify(step), step.name).not.toContain(secret);
    }
    const [dryPrepare, dryTrain] = dry.steps;
    // Known before the run: identical, placeholder-free.
    expect(dryPrepare!.unresolved).toEqual([]);
    expect(dryPrepare!.argv).toContain("hey");
    expect(dryPrepare!.env).toMatchObject({ CLUSTER_SETTING: "from-cluster", TASK_SETTING: "from-task" });
    expect(dryPrepare!.resources.timeLimitSeconds).toBe(60);
    // Known only once prepare ran: its text in the dry run, its value in the run.
    expect(dryTrain!.unresolved).toEqual(["${prepare.metrics.rows}"]);
    expect(dryTrain!.argv).toContain("${prepare.metrics.rows}");
    expect(submitted.find((s) => s.step === "train")!.argv).toContain("7");
    expect(dryTrain!.resources.timeLimitSeconds).toBe(3600);
  });
});

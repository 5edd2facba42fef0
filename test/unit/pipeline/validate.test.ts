/**
 * Pipeline validation: every problem found before anything runs, with exact messages, all at once.
 */
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import { type ClusterConfig, ClusterConfigSchema } from "../../../src/config/cluster-config.js";
import { resolveQueue } from "../../../src/config/resolve-queue.js";
import { type PipelineProblem, PipelineValidationError } from "../../../src/errors.js";
import type { FileStore } from "../../../src/store/file-store.js";
import { LMEvalTask } from "../../../src/tasks/lm-eval-task.js";
import { loadTask } from "../../../src/tasks/registry.js";
import { localCluster, recordingTask, tempStore } from "../helpers.js";

const SLURM = ClusterConfigSchema.parse({
  executor: "slurm",
  jobDir: "/shared/gpu-dag",
  queues: { "oneshot-a100x1": { partition: "a100", gpus: 1 }, "oneshot-a100x4": { partition: "a100", gpus: 4 }, cpu: { partition: "cpu" } },
});

function context(store: FileStore, cluster: ClusterConfig = localCluster()) {
  return {
    loadTask: (id: string) => loadTask(id, store),
    checkQueue: (queue: string) => {
      const resolved = resolveQueue(cluster, queue);
      return "error" in resolved ? resolved.error : undefined;
    },
  };
}

/** Drafts every test uses: a custom task with parameter `x`, and an lm-eval task. */
async function drafts(store: FileStore) {
  const custom = recordingTask("custom");
  await custom.createTask({ store });
  const evalTask = new LMEvalTask({ projectName: "unit", taskName: "eval", modelId: "m", config: "openllm" });
  await evalTask.createTask({ store });
  return { custom: custom.id!, evalTask: evalTask.id! };
}

async function planError(pipeline: Pipeline, store: FileStore, cluster?: ClusterConfig): Promise<PipelineValidationError> {
  const error = await pipeline.plan(context(store, cluster)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PipelineValidationError);
  expect((error as PipelineValidationError).code).toBe("E_PIPELINE_INVALID");
  return error as PipelineValidationError;
}

async function problemsOf(pipeline: Pipeline, store: FileStore, cluster?: ClusterConfig): Promise<PipelineProblem[]> {
  return [...(await planError(pipeline, store, cluster)).problems];
}

const newPipeline = () => new Pipeline({ projectName: "unit", pipelineName: "v" });

describe("pipeline validation", () => {
  it("names a cycle as a path starting at its smallest step", async () => {
    const store = await tempStore();
    const { custom } = await drafts(store);
    const p = newPipeline()
      .addStep({ name: "c", baseTaskId: custom, parents: ["b"], executionQueue: "cpu" })
      .addStep({ name: "a", baseTaskId: custom, parents: ["c"], executionQueue: "cpu" })
      .addStep({ name: "b", baseTaskId: custom, parents: ["a"], executionQueue: "cpu" })
      .addStep({ name: "free", baseTaskId: custom, executionQueue: "cpu" });
    const error = await planError(p, store);
    expect(error.message).toBe('pipeline "v" is invalid (1 problem):\n  - cycle: a → b → c → a');
    expect(error.problems).toEqual([{ message: "cycle: a → b → c → a" }]);
  });

  it("finds a cycle closed by a placeholder (a placeholder makes its step a parent)", async () => {
    const store = await tempStore();
    const { custom } = await drafts(store);
    const p = newPipeline()
      .addStep({ name: "a", baseTaskId: custom, executionQueue: "cpu", parameterOverride: { sleep: "${b.metrics.ms}" } })
      .addStep({ name: "b", baseTaskId: custom, parents: ["a"], executionQueue: "cpu" });
    expect(await problemsOf(p, store)).toEqual([{ message: "cycle: a → b → a" }]);
  });

  it("reports a step that is its own parent", async () => {
    const store = await tempStore();
    const { custom } = await drafts(store);
    const p = newPipeline().addStep({ name: "solo", baseTaskId: custom, parents: ["solo"], executionQueue: "cpu" });
    expect(await problemsOf(p, store)).toEqual([{ step: "solo", field: "parents", message: 'step "solo" lists itself as a parent' }]);
  });

  it("reports an unknown parent, with a did-you-mean when one is close", async () => {
    const store = await tempStore();
    const { custom } = await drafts(store);
    const p = newPipeline()
      .addStep({ name: "step1", baseTaskId: custom, executionQueue: "cpu" })
      .addStep({ name: "step2", baseTaskId: custom, parents: ["stpe1", "zzz"], executionQueue: "cpu" });
    expect(await problemsOf(p, store)).toEqual([
      { step: "step2", field: "parents", message: 'unknown parent "stpe1" (did you mean "step1"?)' },
      { step: "step2", field: "parents", message: 'unknown parent "zzz"' },
    ]);
  });

  it("reports duplicate step names", async () => {
    const store = await tempStore();
    const { custom } = await drafts(store);
    const p = newPipeline().addStep({ name: "dup", baseTaskId: custom, executionQueue: "cpu" }).addStep({ name: "dup", baseTaskId: custom, executionQueue: "cpu" });
    expect(await problemsOf(p, store)).toEqual([{ step: "dup", field: "name", message: 'duplicate step name "dup"' }]);
  });

  it("reports an unknown base task", async () => {
    const store = await tempStore();
    const p = newPipeline().addStep({ name: "a", baseTaskId: "task_000000000000", executionQueue: "cpu" });
    expect(await problemsOf(p, store)).toEqual([{ step: "a", field: "baseTaskId", message: 'unknown base task "task_000000000000": task draft "task_000000000000" not found in the store' }]);
  });

  it("reports an unknown queue where the cluster's queues are fixed (slurm)", async () => {
    const store = await tempStore();
    const { custom } = await drafts(store);
    const p = newPipeline()
      .addStep({ name: "a", baseTaskId: custom, executionQueue: "oneshot-a100x2" })
      .addStep({ name: "b", baseTaskId: custom, executionQueue: "cpu" })
      .addStep({ name: "c", baseTaskId: custom, executionQueue: "gpu-h100" });
    expect(await problemsOf(p, store, SLURM)).toEqual([
      {
        step: "a",
        field: "executionQueue",
        message: 'unknown queue "oneshot-a100x2" (did you mean "oneshot-a100x1"?); known queues: oneshot-a100x1, oneshot-a100x4, cpu',
      },
      { step: "c", field: "executionQueue", message: 'unknown queue "gpu-h100"; known queues: oneshot-a100x1, oneshot-a100x4, cpu' },
    ]);
    // The local default config accepts any queue name.
    await expect(p.plan(context(store))).resolves.toBeDefined();
  });

  it("checks every placeholder: syntax, unclosed, unknown step, unknown parameter, its own step", async () => {
    const store = await tempStore();
    const { custom, evalTask } = await drafts(store);
    const p = newPipeline()
      .addParameter("lr", 0.1)
      .addStep({ name: "up", baseTaskId: custom, executionQueue: "cpu" })
      .addStep({ name: "ev", baseTaskId: evalTask, executionQueue: "cpu" })
      .addStep({
        name: "s",
        baseTaskId: custom,
        executionQueue: "cpu",
        parameterOverride: {
          "Args/a": "${up.models.output.last.id}",
          "Args/b": "$<up.weights>",
          "Args/c": "x ${up.metrics.acc",
          "Args/d": "${upp.metrics.acc}",
          "Args/e": "${pipeline.lrr}",
          "Args/f": "${s.metrics.acc}",
          "Args/g": "${ev.parameters.nope}",
          "Args/h": "${pipeline.lr} ${up.parameters.sleep} $<up.parameters.Args/sleep> ${ev.parameters.Args/num_fewshot}",
        },
      });
    expect(await problemsOf(p, store)).toEqual([
      {
        step: "s",
        field: "parameterOverride.Args/a",
        message: 'invalid placeholder "${up.models.output.last.id}": models are referenced as <step>.models.output.<index>.id|url|name with an integer index (e.g. -1 for the last)',
      },
      {
        step: "s",
        field: "parameterOverride.Args/b",
        message:
          'invalid placeholder "$<up.weights>": expected ${pipeline.<param>}, ${<step>.id}, ${<step>.parameters.<name>}, ${<step>.artifacts.<name>.url}, ${<step>.models.output.<index>.id|url|name}, ${<step>.metrics.<name>}, ${item.<axis>} or, for a map step, ${<step>[<selector>].…}',
      },
      { step: "s", field: "parameterOverride.Args/c", message: 'unclosed placeholder at column 3 of "x ${up.metrics.acc": missing "}"' },
      { step: "s", field: "parameterOverride.Args/d", message: 'placeholder "${upp.metrics.acc}" refers to unknown step "upp" (did you mean "up"?)' },
      {
        step: "s",
        field: "parameterOverride.Args/e",
        message: 'placeholder "${pipeline.lrr}" names unknown pipeline parameter "lrr" (did you mean "lr"?); add it with addParameter()',
      },
      { step: "s", field: "parameterOverride.Args/f", message: 'placeholder "${s.metrics.acc}" refers to the step itself' },
      {
        step: "s",
        field: "parameterOverride.Args/g",
        message:
          'placeholder "${ev.parameters.nope}": step "ev" has no parameter "nope" (parameters: projectName, taskName, runtime, python, env, secretEnv, tags, modelId, modelFromStore, config, tasks, numFewshot, batchSize, backend, limit, applyChatTemplate, modelArgs, includePath, device, splitSubtasks, listSubtasks, subtask, recombine)',
      },
    ]);
  });

  it("rejects an unknown parameterOverride key with a did-you-mean", async () => {
    const store = await tempStore();
    const { evalTask } = await drafts(store);
    const p = newPipeline().addStep({ name: "e", baseTaskId: evalTask, executionQueue: "cpu", parameterOverride: { modelID: "x", "Args/num_fewshots": 3 } });
    const known =
      "projectName, taskName, runtime, python, env, secretEnv, tags, modelId, modelFromStore, config, tasks, numFewshot, batchSize, backend, limit, applyChatTemplate, modelArgs, includePath, device, splitSubtasks, listSubtasks, subtask, recombine";
    expect(await problemsOf(p, store)).toEqual([
      { step: "e", field: "parameterOverride.modelID", message: `LMEvalTask: unknown parameter "modelID" (did you mean "modelId"?); parameters: ${known}` },
      {
        step: "e",
        field: "parameterOverride.Args/num_fewshots",
        message: `LMEvalTask: unknown parameter "Args/num_fewshots" (did you mean "Args/num_fewshot"?); parameters: ${known}`,
      },
    ]);
  });

  it("type-checks literal overrides before anything runs, each bad one reported", async () => {
    const store = await tempStore();
    const { evalTask } = await drafts(store);
    const p = newPipeline().addStep({
      name: "e",
      baseTaskId: evalTask,
      executionQueue: "cpu",
      // Placeholders are checked at launch; literals now.
      parameterOverride: { numFewshot: "five", backend: "tgi", modelId: "${pipeline.m}", limit: 10 },
    });
    p.addParameter("m", "model");
    expect(await problemsOf(p, store)).toEqual([
      {
        step: "e",
        field: "parameterOverride.numFewshot",
        message: 'LMEvalTask option "numFewshot": expected a number, got "five" (string)',
      },
      {
        step: "e",
        field: "parameterOverride.backend",
        message: 'LMEvalTask option "backend": "tgi" is not one of "hf", "vllm"',
      },
    ]);
  });

  it("reports ALL problems of a pipeline at once, in a deterministic order, in one message", async () => {
    const store = await tempStore();
    const { custom, evalTask } = await drafts(store);
    const p = newPipeline()
      .addStep({ name: "a", baseTaskId: custom, parents: ["c"], executionQueue: "cpu" })
      .addStep({ name: "b", baseTaskId: custom, parents: ["a"], executionQueue: "cpu" })
      .addStep({ name: "c", baseTaskId: custom, parents: ["b"], executionQueue: "cpu" })
      .addStep({ name: "x", baseTaskId: "task_missing1", executionQueue: "cpu" })
      .addStep({ name: "y", baseTaskId: "task_missing2", executionQueue: "cpu" })
      .addStep({ name: "d", baseTaskId: custom, parents: ["d", "e1"], executionQueue: "oneshot-a100x2" })
      .addStep({ name: "d", baseTaskId: custom, executionQueue: "cpu" })
      .addStep({ name: "e", baseTaskId: evalTask, executionQueue: "cpu", parameterOverride: { modelID: "x", limit: "lots", tasks: ["${nope.id}"] } });
    const error = await planError(p, store, SLURM);
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect(error.message).toBe(
      [
        'pipeline "v" is invalid (10 problems):',
        '  - step "d", name: duplicate step name "d"',
        '  - step "x", baseTaskId: unknown base task "task_missing1": task draft "task_missing1" not found in the store',
        '  - step "y", baseTaskId: unknown base task "task_missing2": task draft "task_missing2" not found in the store',
        '  - step "d", parents: step "d" lists itself as a parent',
        '  - step "d", parents: unknown parent "e1" (did you mean "e"?)',
        '  - step "d", executionQueue: unknown queue "oneshot-a100x2" (did you mean "oneshot-a100x1"?); known queues: oneshot-a100x1, oneshot-a100x4, cpu',
        '  - step "e", parameterOverride.modelID: LMEvalTask: unknown parameter "modelID" (did you mean "modelId"?); parameters: projectName, taskName, runtime, python, env, secretEnv, tags, modelId, modelFromStore, config, tasks, numFewshot, batchSize, backend, limit, applyChatTemplate, modelArgs, includePath, device, splitSubtasks, listSubtasks, subtask, recombine',
        '  - step "e", parameterOverride.tasks: placeholder "${nope.id}" refers to unknown step "nope"',
        '  - step "e", parameterOverride.limit: LMEvalTask option "limit": expected a number, got "lots" (string)',
        "  - cycle: a → b → c → a",
      ].join("\n"),
    );
  });

  it("makes a placeholder-referenced step a parent; plans children, order and priority", async () => {
    const store = await tempStore();
    const { custom } = await drafts(store);
    const p = newPipeline()
      .addStep({ name: "prod", baseTaskId: custom, executionQueue: "cpu" })
      .addStep({ name: "other", baseTaskId: custom, executionQueue: "cpu" })
      .addStep({ name: "cons", baseTaskId: custom, parents: ["other"], executionQueue: "cpu", parameterOverride: { sleep: "$<prod.metrics.ms>" } })
      .addStep({ name: "last", baseTaskId: custom, executionQueue: "cpu", parameterOverride: { sleep: "${cons.metrics.ms}${cons.metrics.ms}" } });
    const plan = await p.plan(context(store));
    expect(plan.steps.get("cons")!.parents).toEqual(["other", "prod"]);
    expect(plan.steps.get("last")!.parents).toEqual(["cons"]);
    expect(plan.steps.get("prod")!.children).toEqual(["cons"]);
    expect(plan.order).toEqual(["prod", "other", "cons", "last"]);
    expect(plan.steps.get("prod")!.priority).toBe(3);
    expect(plan.steps.get("last")!.priority).toBe(1);
    expect(plan.steps.get("last")!.placeholders.map((x) => x.raw)).toEqual(["${cons.metrics.ms}", "${cons.metrics.ms}"]);
  });

  it("executeLocally rejects an invalid pipeline and records no run", async () => {
    const store = await tempStore();
    const { custom } = await drafts(store);
    const p = newPipeline().addStep({ name: "a", baseTaskId: custom, parents: ["ghost"], executionQueue: "cpu" });
    await expect(p.executeLocally({ store, cluster: localCluster() })).rejects.toThrow('step "a", parents: unknown parent "ghost"');
    expect(await store.listRuns()).toEqual([]);
  });

  it("addStep rejects a malformed step at once (field errors are not deferred)", () => {
    expect(() => newPipeline().addStep({ name: "1bad", baseTaskId: "t", executionQueue: "cpu" })).toThrow('addStep("1bad"): name: "1bad" must start with an ASCII letter or "_"');
  });
});

describe("a problem shared by many steps", () => {
  it("is printed once, naming a few steps and counting the rest; every problem stays in .problems", async () => {
    const store = await tempStore();
    const pipeline = new Pipeline({ projectName: "unit", pipelineName: "wide" });
    for (let i = 0; i < 10_000; i++) pipeline.addStep({ name: `s${i}`, baseTaskId: "task_000000000000", executionQueue: "cpu" });
    const error = await planError(pipeline, store);
    expect(error.problems).toHaveLength(10_000);
    const lines = error.message.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^ {2}- steps "s0", "s1", "s2" and 9,997 more \(10,000 steps\), baseTaskId: unknown base task "task_000000000000"/);
    expect(error.message.length).toBeLessThan(1_000);
  });
});

/**
 * Drafts in the store (createTask, loadTask, listTasks), clone with overrides, and rendering of
 * each task type's job: exact argv arrays.
 */
import { describe, expect, it } from "vitest";
import { TaskNotFoundError, TaskOptionError } from "../../../src/errors.js";
import { Task } from "../../../src/tasks/custom-task.js";
import { GenerateTask } from "../../../src/tasks/generate-task.js";
import { LLMCompressorTask } from "../../../src/tasks/llm-compressor-task.js";
import { LMEvalTask } from "../../../src/tasks/lm-eval-task.js";
import { listTasks, loadTask } from "../../../src/tasks/registry.js";
import type { RenderContext } from "../../../src/tasks/task-draft.js";
import { tempStore } from "../helpers.js";

const base = { projectName: "p", taskName: "t", modelId: "meta-llama/Llama-3.2-1B-Instruct" };
const real = (gpus: number, extra: Partial<RenderContext> = {}): RenderContext => ({ runtime: "real", python: "/venv/bin/python", gpus, ...extra });
const simulate = (gpus: number, extra: Partial<RenderContext> = {}): RenderContext => ({ runtime: "simulate", python: "python3", gpus, ...extra });

const W4A16_RECIPE = `quant_stage:
  quant_modifiers:
    GPTQModifier:
      ignore: ["lm_head"]
      targets: ["Linear"]
      scheme: "W4A16"
      dampening_frac: 0.01
`;

describe("drafts in the store", () => {
  it("createTask stores the draft and sets its id; loadTask gives an equal draft", async () => {
    const store = await tempStore();
    const drafts = [
      new LLMCompressorTask({ ...base, config: "quantization_w4a16", numSamples: 64 }),
      new LMEvalTask({ ...base, config: "openllm", modelFromStore: true, limit: 5, tags: ["a"] }),
      new GenerateTask({ ...base, inputFile: "in.jsonl", extraArguments: "++prompt_config=generic/math" }),
      new Task({ projectName: "p", taskName: "c", command: ["echo", "{x}"], parameters: { x: 1 }, env: { A: "b" } }),
    ];
    for (const draft of drafts) {
      expect(draft.id).toBeUndefined();
      const id = await draft.createTask({ store });
      expect(id).toMatch(/^task_[0-9a-f]{12}$/);
      expect(draft.id).toBe(id);
      const loaded = await loadTask(id, store);
      expect(loaded.constructor).toBe(draft.constructor);
      expect(loaded.id).toBe(id);
      expect(loaded.options).toEqual(draft.options);
      expect(loaded.render(simulate(1, { modelPath: "/m" }))).toEqual(draft.render(simulate(1, { modelPath: "/m" })));
    }
    const listed = await listTasks(store);
    expect(listed.map((r) => r.id).sort()).toEqual(drafts.map((d) => d.id).sort());
    expect(listed.map((r) => r.type).sort()).toEqual(["custom", "generate", "llm-compressor", "lm-eval"]);
    // Storing again keeps the id.
    expect(await drafts[0]!.createTask({ store })).toBe(drafts[0]!.id);
    expect(await listTasks(store)).toHaveLength(4);
  });

  it("loadTask of an unknown id throws TaskNotFoundError", async () => {
    const store = await tempStore();
    await expect(loadTask("task_000000000000", store)).rejects.toThrow(TaskNotFoundError);
    await expect(loadTask("../etc/passwd", store)).rejects.toThrow('task draft "../etc/passwd" not found in the store');
  });
});

describe("clone", () => {
  it("Args/model_id, model_id and modelId all set modelId; the original never changes", () => {
    const original = new LMEvalTask({ ...base, config: "openllm" });
    original.id = "task_original";
    const before = structuredClone(original.options);
    for (const key of ["Args/model_id", "model_id", "modelId"]) {
      const clone = original.clone({ [key]: "other/model" });
      expect(clone.options.modelId, key).toBe("other/model");
      expect(clone.id).toBeUndefined();
      expect(clone).toBeInstanceOf(LMEvalTask);
    }
    const clone = original.clone({ "Args/num_fewshot": 3, modelArgs: { dtype: "bf16" } });
    expect([clone.options.numFewshot, clone.options.modelArgs]).toEqual([3, { dtype: "bf16" }]);
    expect(original.options).toEqual(before);
    expect(original.id).toBe("task_original");
    expect(Object.isFrozen(original.options)).toBe(true);
  });

  it("validates overrides like constructor options", () => {
    const original = new LMEvalTask({ ...base, config: "openllm" });
    expect(() => original.clone({ numFewshot: -2 })).toThrow('LMEvalTask option "numFewshot": -2 is below the minimum 0');
    expect(() => original.clone({ modelid: "x" })).toThrow(TaskOptionError);
    expect(() => original.clone({ modelid: "x" })).toThrow('LMEvalTask: unknown parameter "modelid" (did you mean "modelId"?)');
  });

  it("a custom Task takes Args/x, x and parameters.x for its parameters", () => {
    const task = new Task({ projectName: "p", taskName: "c", command: ["run", "--lr={lr}", "{{literal}}", "{name}"], parameters: { lr: 0.1, name: "a" } });
    expect(task.render(real(0)).argv).toEqual(["run", "--lr=0.1", "{literal}", "a"]);
    for (const key of ["Args/lr", "lr", "parameters.lr"]) {
      expect(task.clone({ [key]: 0.5 }).render(real(0)).argv, key).toEqual(["run", "--lr=0.5", "{literal}", "a"]);
    }
    expect(task.clone({ "Args/name": "x y $z" }).render(real(0)).argv).toEqual(["run", "--lr=0.1", "{literal}", "x y $z"]);
    expect(task.options.parameters).toEqual({ lr: 0.1, name: "a" });
  });

  it("a custom Task refuses a command word naming a parameter it lacks", () => {
    expect(() => new Task({ projectName: "p", taskName: "c", command: ["echo", "{y}"], parameters: { x: 1 } })).toThrow('Task "c": command uses "{y}" but parameters has no "y" (has: x)');
  });
});

describe("render", () => {
  it("LLMCompressorTask", () => {
    const task = new LLMCompressorTask({ ...base, config: "quantization_w4a16" });
    const rest = ["--recipe-yaml", W4A16_RECIPE, "--dataset", "open_platypus", "--num-samples", "512", "--max-seq-length", "2048", "--save-compressed", "true"];
    expect(task.render(real(1))).toEqual({
      argv: ["/venv/bin/python", "-m", "gpu_dag_runtime.compress", "--model", base.modelId, ...rest],
      env: { PYTHONUNBUFFERED: "1" },
      simulated: false,
    });
    expect(task.render(simulate(1))).toEqual({
      argv: ["python3", "-m", "gpu_dag_runtime.simulate", "compress", "--model", base.modelId, ...rest],
      env: { PYTHONUNBUFFERED: "1" },
      simulated: true,
    });
    const fromStore = task.clone({ modelFromStore: true, modelId: "model_123", numSamples: "16", saveCompressed: false, env: { HF_HOME: "/h" } });
    expect(fromStore.render(real(1, { modelPath: "/store/model" }))).toEqual({
      argv: [
        "/venv/bin/python",
        "-m",
        "gpu_dag_runtime.compress",
        "--model",
        "/store/model",
        "--recipe-yaml",
        W4A16_RECIPE,
        "--dataset",
        "open_platypus",
        "--num-samples",
        "16",
        "--max-seq-length",
        "2048",
        "--save-compressed",
        "false",
      ],
      env: { PYTHONUNBUFFERED: "1", HF_HOME: "/h" },
      simulated: false,
    });
    expect(() => fromStore.render(real(1))).toThrow('modelFromStore is set but store model "model_123" was not resolved to a path');
  });

  it("LMEvalTask: vllm tensor parallel is the job's GPUs; hf and CPU jobs have none", () => {
    const task = new LMEvalTask({ ...base, config: "openllm" }); // openllm says backend vllm
    const head = (py: string, simulated: boolean) => (simulated ? [py, "-m", "gpu_dag_runtime.simulate", "evaluate"] : [py, "-m", "gpu_dag_runtime.evaluate"]);
    expect(task.render(real(4)).argv).toEqual([
      ...head("/venv/bin/python", false),
      "--model",
      base.modelId,
      "--backend",
      "vllm",
      "--tasks",
      "openllm",
      "--batch-size",
      "auto",
      "--tensor-parallel-size",
      "4",
      "--device",
      "cuda",
    ]);
    expect(task.render(simulate(2))).toEqual({
      argv: [...head("python3", true), "--model", base.modelId, "--backend", "vllm", "--tasks", "openllm", "--batch-size", "auto", "--tensor-parallel-size", "2", "--device", "cuda"],
      env: { PYTHONUNBUFFERED: "1" },
      simulated: true,
    });
    expect(task.render(real(0)).argv).toEqual([...head("/venv/bin/python", false), "--model", base.modelId, "--backend", "vllm", "--tasks", "openllm", "--batch-size", "auto", "--device", "cpu"]);
    const hf = new LMEvalTask({
      ...base,
      config: "leaderboard",
      backend: "hf",
      tasks: ["arc_easy", "hellaswag"],
      numFewshot: 0,
      limit: 10,
      applyChatTemplate: true,
      modelArgs: { dtype: "bfloat16", trust_remote_code: true },
      modelFromStore: true,
      device: "cpu",
    });
    expect(hf.render(real(2, { modelPath: "/models/m1" })).argv).toEqual([
      ...head("/venv/bin/python", false),
      "--model",
      "/models/m1",
      "--backend",
      "hf",
      "--tasks",
      "arc_easy,hellaswag",
      "--num-fewshot",
      "0",
      "--batch-size",
      "auto",
      "--limit",
      "10",
      "--apply-chat-template",
      "--model-args",
      "dtype=bfloat16,trust_remote_code=true",
      "--device",
      "cpu",
    ]);
  });

  it("GenerateTask: server flags, then the ++ main arguments as separate words", () => {
    const task = new GenerateTask({ ...base, inputFile: "in.jsonl", extraArguments: "++prompt_config=generic/math '++system_message=be brief' ++inference.temperature=0.6" });
    expect(task.render(real(2))).toEqual({
      argv: [
        "/venv/bin/python",
        "-m",
        "gpu_dag_runtime.generate",
        "--server-type",
        "vllm",
        "--model",
        base.modelId,
        "--server-gpus",
        "2",
        "--server-nodes",
        "1",
        // The vLLM launch is rendered here (tensor parallel = the job's GPUs) so dry runs show it.
        "--server-command",
        "vllm serve {model} --host 127.0.0.1 --port {port} --tensor-parallel-size 2",
        "--input-file",
        "in.jsonl",
        "++prompt_config=generic/math",
        "++system_message=be brief",
        "++inference.temperature=0.6",
      ],
      env: { PYTHONUNBUFFERED: "1" },
      simulated: false,
    });
    const chunked = new GenerateTask({
      ...base,
      config: "generic_generate",
      inputFile: "in.jsonl",
      serverType: "transformers",
      serverGpus: 0,
      numChunks: 4,
      chunkId: 1,
      extraArguments: ["++max_samples=5"],
    });
    const argv = chunked.render(simulate(1)).argv;
    expect(argv.slice(0, 4)).toEqual(["python3", "-m", "gpu_dag_runtime.simulate", "generate"]);
    expect(argv).toContain("--num-chunks");
    expect(argv.slice(argv.indexOf("--num-chunks"), argv.indexOf("--num-chunks") + 4)).toEqual(["--num-chunks", "4", "--chunk-id", "1"]);
    expect(argv.slice(argv.indexOf("--server-type"), argv.indexOf("--server-type") + 6)).toEqual(["--server-type", "transformers", "--model", base.modelId, "--server-gpus", "0"]);
    expect(argv.at(-1)).toBe("++max_samples=5");
  });

  it("custom Task: argv with parameters substituted, no shell involved, env passed", () => {
    const task = new Task({ projectName: "p", taskName: "c", command: ["sh", "-c", 'echo "$1"', "x", "{msg}"], parameters: { msg: "$(rm -rf /) `id` 'q'" }, env: { FOO: "bar" } });
    expect(task.render(real(0))).toEqual({ argv: ["sh", "-c", 'echo "$1"', "x", "$(rm -rf /) `id` 'q'"], env: { FOO: "bar" }, simulated: false });
    // simulate mode does not change a custom command: it has no stand-in.
    expect(task.render(simulate(0))).toEqual(task.render(real(0)));
  });
});

/**
 * Task draft options and configs: errors naming option, value and expectation; did-you-mean;
 * bundled configs; configs from a file and inline YAML.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, TaskOptionError } from "../../../src/errors.js";
import { GenerateTask } from "../../../src/tasks/generate-task.js";
import { LLMCompressorTask } from "../../../src/tasks/llm-compressor-task.js";
import { LMEvalTask } from "../../../src/tasks/lm-eval-task.js";
import { bundledConfigNames } from "../../../src/tasks/task-config.js";
import { tempDir } from "../helpers.js";

const base = { projectName: "p", taskName: "t", modelId: "m" };

function error<E extends Error>(type: new (...args: never[]) => E, f: () => unknown): E {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    return e as E;
  }
  throw new Error(`expected a ${type.name}`);
}

const EVAL_OPTIONS =
  "projectName, taskName, runtime, python, env, secretEnv, tags, modelId, modelFromStore, config, tasks, numFewshot, batchSize, backend, limit, applyChatTemplate, modelArgs, includePath, device, splitSubtasks, listSubtasks, subtask, recombine";

describe("task option errors", () => {
  it("name the option, the value and what was expected", () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ numFewshot: -1 }, "numFewshot", 'LMEvalTask option "numFewshot": -1 is below the minimum 0'],
      [{ numFewshot: "five" }, "numFewshot", 'LMEvalTask option "numFewshot": expected a number, got "five" (string)'],
      [{ backend: "tgi" }, "backend", 'LMEvalTask option "backend": "tgi" is not one of "hf", "vllm"'],
      [{ modelId: 5 }, "modelId", 'LMEvalTask option "modelId": expected a string, got 5 (number)'],
      [{ config: undefined }, "config", 'LMEvalTask option "config": expected a string, got nothing (it is required)'],
      [{ env: { "BAD-NAME": "x" } }, "env", 'LMEvalTask option "env": key "BAD-NAME" must be an environment variable name'],
      [{ env: { OK: 1 } }, "env.OK", 'LMEvalTask option "env.OK": expected a string, got 1 (number)'],
    ];
    for (const [options, option, message] of cases) {
      const e = error(TaskOptionError, () => new LMEvalTask({ ...base, config: "openllm", ...options } as never));
      expect(e.message).toBe(message);
      expect([e.option, e.taskType, e.code]).toEqual([option, "LMEvalTask", "E_TASK_OPTION"]);
    }
  });

  it("accept numbers and booleans given as strings (resolved placeholders are strings)", () => {
    const task = new LMEvalTask({ ...base, config: "openllm", numFewshot: "5" as never, applyChatTemplate: "true" as never, limit: "0.5" as never });
    expect([task.options.numFewshot, task.options.applyChatTemplate, task.options.limit]).toEqual([5, true, 0.5]);
  });

  it("reject an unknown option with a did-you-mean and the known options", () => {
    const e = error(TaskOptionError, () => new LMEvalTask({ ...base, config: "openllm", numFewshots: 3 } as never));
    expect(e.message).toBe(`LMEvalTask: unknown option "numFewshots" (did you mean "numFewshot"?); known options: ${EVAL_OPTIONS}`);
    expect(e.option).toBe("numFewshots");
    const snake = error(TaskOptionError, () => new LLMCompressorTask({ ...base, config: "quantization_w4a16", model_id: "x" } as never));
    expect(snake.message).toMatch(/^LLMCompressorTask: unknown option "model_id" \(did you mean "modelId"\?\); known options: /);
  });

  it("reject options that are not an object", () => {
    expect(error(TaskOptionError, () => new LMEvalTask("openllm" as never)).message).toBe('LMEvalTask: options must be an object, got "openllm" (string)');
  });
});

describe("task configs", () => {
  it("lists the bundled configs, per kind", () => {
    expect(bundledConfigNames()).toEqual(["generic_generate", "gptq_w4a16", "leaderboard", "openllm", "quantization_w4a16", "quantization_w8a8", "smoothquant_w8a8"]);
    expect(bundledConfigNames("lm-eval")).toEqual(["leaderboard", "openllm"]);
    expect(bundledConfigNames("llm-compressor")).toEqual(["gptq_w4a16", "quantization_w4a16", "quantization_w8a8", "smoothquant_w8a8"]);
    expect(bundledConfigNames("generate")).toEqual(["generic_generate"]);
  });

  it("an unknown config name lists the available ones", () => {
    expect(error(ConfigError, () => new LMEvalTask({ ...base, config: "openlm" })).message).toBe(
      'LMEvalTask option "config": unknown config "openlm" (did you mean "openllm"?); bundled lm-eval configs: leaderboard, openllm; or give a path to a YAML file, or inline YAML',
    );
    expect(error(ConfigError, () => new LLMCompressorTask({ ...base, config: "w4a16" })).message).toBe(
      'LLMCompressorTask option "config": unknown config "w4a16"; bundled llm-compressor configs: gptq_w4a16, quantization_w4a16, quantization_w8a8, smoothquant_w8a8; or give a path to a YAML file, or inline YAML',
    );
  });

  it("a config of another kind is refused", () => {
    expect(() => new LMEvalTask({ ...base, config: "quantization_w4a16" })).toThrow(ConfigError);
  });

  it("reads a config from a YAML file path", async () => {
    const dir = await tempDir();
    const file = join(dir, "my-eval.yaml");
    await writeFile(file, "kind: lm-eval\ntasks: [hellaswag, arc_easy]\nnumFewshot: 5\nbackend: hf\n");
    const task = new LMEvalTask({ ...base, config: file });
    expect(task.config()).toEqual({ kind: "lm-eval", tasks: ["hellaswag", "arc_easy"], numFewshot: 5, backend: "hf" });
    const missing = error(ConfigError, () => new LMEvalTask({ ...base, config: join(dir, "nope.yaml") }));
    expect(missing.message).toBe(`LMEvalTask option "config": config file ${join(dir, "nope.yaml")} does not exist`);
    await writeFile(file, "kind: lm-eval\ntasks: []\n");
    expect(error(ConfigError, () => new LMEvalTask({ ...base, config: file })).message).toBe(`${file}:2: tasks: [] has 0 items, fewer than the minimum 1`);
  });

  it("reads inline YAML (kind may be left out) and names the line of a bad field", () => {
    const task = new LMEvalTask({ ...base, config: "tasks: [arc_easy]\nlimit: 10\n" });
    expect(task.config()).toEqual({ kind: "lm-eval", tasks: ["arc_easy"], limit: 10 });
    expect(error(ConfigError, () => new LMEvalTask({ ...base, config: "tasks: [a, b]\nnumFewshot: x" })).message).toBe(
      'LMEvalTask option "config" (inline YAML):2: numFewshot: expected a number, got "x" (string)',
    );
  });

  it("bundled configs resolve to their content", () => {
    const task = new LLMCompressorTask({ ...base, config: "quantization_w4a16", recipeArgs: { dampening_frac: 0.05 } });
    expect(task.config().dataset).toBe("open_platypus");
    expect(task.recipeText()).toContain("dampening_frac: 0.05");
    expect(task.recipeText()).toContain('scheme: "W4A16"');
  });
});

describe("GenerateTask main arguments", () => {
  it("rejects unknown ++keys with a did-you-mean", () => {
    const e = error(TaskOptionError, () => new GenerateTask({ ...base, inputFile: "in.jsonl", extraArguments: "++prompt_confg=x ++inference.temprature=0.5 ++max_samples=3" }));
    expect(e.message).toBe(
      [
        'GenerateTask extraArguments: unknown key "prompt_confg" in "++prompt_confg=x"; did you mean "prompt_config"?',
        'GenerateTask extraArguments: unknown key "inference.temprature" in "++inference.temprature=0.5"; did you mean "inference.temperature"?',
      ].join("\n"),
    );
    expect(e.option).toBe("extraArguments");
  });

  it("does not check keys of the user's own script", () => {
    expect(() => new GenerateTask({ ...base, inputFile: "in.jsonl", script: "my_gen.py", extraArguments: "++anything=1" })).not.toThrow();
  });

  it("checks options that depend on each other", () => {
    expect(error(TaskOptionError, () => new GenerateTask({ ...base, inputFile: "i", serverType: "openai" })).message).toBe(
      'GenerateTask option "serverAddress": required when serverType is "openai" (no server is started)',
    );
    expect(error(TaskOptionError, () => new GenerateTask({ ...base, inputFile: "i", numChunks: 2, chunkId: 2 })).message).toBe('GenerateTask option "chunkId": must be below numChunks (2), got 2');
  });
});

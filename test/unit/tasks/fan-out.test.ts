/**
 * What the pipeline needs to expand a fanned-out GenerateTask and a split LMEvalTask into map
 * steps: the elements, each job's overrides, and the exact argv of the element, merge, list and
 * recombine jobs. The single-job defaults are unchanged (task-draft.test.ts holds their argv).
 */
import { describe, expect, it } from "vitest";
import { TaskOptionError } from "../../../src/errors.js";
import { generationElementCommand, generationElements, generationFanOut, generationMergeCommand } from "../../../src/tasks/generate-fan-out.js";
import { GenerateTask } from "../../../src/tasks/generate-task.js";
import { evalListCommand, evalRecombineCommand, evalSplit, evalSubtaskCommand } from "../../../src/tasks/lm-eval-split.js";
import { LMEvalTask } from "../../../src/tasks/lm-eval-task.js";
import type { RenderContext } from "../../../src/tasks/task-draft.js";

const base = { projectName: "p", taskName: "t", modelId: "/models/tiny" };
const real = (gpus: number): RenderContext => ({ runtime: "real", python: "/venv/bin/python", gpus });
const simulate = (gpus: number): RenderContext => ({ runtime: "simulate", python: "python3", gpus });
const gen = (extra: Record<string, unknown> = {}) =>
  new GenerateTask({ ...base, serverType: "transformers", inputFile: "/data/in.jsonl", numRandomSeeds: 2, numChunks: 3, fanOut: true, extraArguments: "++max_samples=12", ...extra });
const wordsAfter = (argv: string[], flag: string, n = 1) => argv.slice(argv.indexOf(flag) + 1, argv.indexOf(flag) + 1 + n);

describe("GenerateTask fan-out over (seed, chunk)", () => {
  it("elements are seed-major, as the map's axes { seed, chunk } expand (chunk fastest)", () => {
    expect(generationElements(gen())).toEqual([
      { seed: 0, chunk: 0 },
      { seed: 0, chunk: 1 },
      { seed: 0, chunk: 2 },
      { seed: 1, chunk: 0 },
      { seed: 1, chunk: 1 },
      { seed: 1, chunk: 2 },
    ]);
    expect(generationElements(gen({ numRandomSeeds: undefined, numChunks: undefined }))).toEqual([{ seed: 0, chunk: 0 }]);
    // numRandomSeeds from the config counts too.
    expect(generationElements(gen({ numRandomSeeds: undefined, numChunks: 2, config: "numRandomSeeds: 3" })).map((e) => e.seed)).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it("the plan: axes, element and merge overrides, artifact names; none without fanOut", () => {
    expect(generationFanOut(gen({ fanOut: undefined }))).toBeUndefined();
    expect(generationFanOut(gen({ fanOut: false }))).toBeUndefined();
    const plan = generationFanOut(gen())!;
    expect(plan.axes).toEqual({ seed: [0, 1], chunk: [0, 1, 2] });
    expect(plan.mergeAxes).toEqual({ seed: [0, 1] });
    expect(plan.elementOverrides).toEqual({ fanOut: "false", seedIndex: "${item.seed}", chunkId: "${item.chunk}" });
    expect(plan.mergeOverrides("gen")).toEqual({ fanOut: "false", seedIndex: "${item.seed}", "merge.elements": "${gen[item].elements}" });
    expect([plan.outputArtifact(0), plan.outputArtifact(1)]).toEqual(["output-rs0", "output-rs1"]);
    expect(generationFanOut(gen({ numRandomSeeds: 1 }))!.outputArtifact(0)).toBe("output");
  });

  it("an element's overrides, resolved as placeholders resolve (strings), give the element job", () => {
    const plan = generationFanOut(gen())!;
    const resolved = Object.fromEntries(Object.entries(plan.elementOverrides).map(([k, v]) => [k, v.replace("${item.seed}", "1").replace("${item.chunk}", "2")]));
    const element = gen().clone(resolved);
    const argv = element.render(real(1)).argv;
    expect(argv).toEqual(generationElementCommand(gen(), { seed: 1, chunk: 2 }, real(1)).argv);
    expect(argv.slice(0, 3)).toEqual(["/venv/bin/python", "-m", "gpu_dag_runtime.generate"]);
    expect(wordsAfter(argv, "--num-random-seeds")).toEqual(["2"]);
    expect(wordsAfter(argv, "--num-chunks", 5)).toEqual(["3", "--chunk-id", "2", "--seed-index", "1"]);
    expect(wordsAfter(argv, "--server-type", 3)).toEqual(["transformers", "--model", "/models/tiny"]);
    expect(argv.at(-1)).toBe("++max_samples=12");
    expect(generationElementCommand(gen({ shardDir: "/shared/shards" }), { seed: 0, chunk: 0 }, real(0)).argv).toContain("/shared/shards");
  });

  it("the merge job of one seed: exact argv from an elements file, from shard paths, or from the shard directory", () => {
    expect(generationMergeCommand(gen({ outputFile: "/out/output.jsonl" }), 1, { elements: "/run/gen.elements.json" }, real(0))).toEqual({
      argv: [
        "/venv/bin/python",
        "-m",
        "gpu_dag_runtime.generate",
        "merge",
        "--input-file",
        "/data/in.jsonl",
        "--num-chunks",
        "3",
        "--seed-index",
        "1",
        "--num-random-seeds",
        "2",
        "--output-file",
        "/out/output.jsonl",
        "--elements",
        "/run/gen.elements.json",
        "++max_samples=12",
      ],
      env: { PYTHONUNBUFFERED: "1" },
      simulated: false,
    });
    const shards = generationMergeCommand(gen(), 0, { shards: ["/a/x.jsonl", "/b/y.jsonl"] }, real(0)).argv;
    expect(shards.slice(-4)).toEqual(["++max_samples=12", "--shards", "/a/x.jsonl", "/b/y.jsonl"]);
    expect(shards).not.toContain("--shard-dir");
    const dir = generationMergeCommand(gen({ shardDir: "/shared" }), 0, {}, simulate(0)).argv;
    expect(dir.slice(0, 5)).toEqual(["python3", "-m", "gpu_dag_runtime.simulate", "generate", "merge"]);
    expect(wordsAfter(dir, "--shard-dir")).toEqual(["/shared"]);
    // The merge starts no server: no server flags at all.
    expect(dir.some((w) => w.startsWith("--server"))).toBe(false);
  });

  it("bad combinations are refused where the draft is made, naming the option", () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ fanOut: false, seedIndex: 2 }, 'GenerateTask option "seedIndex": must be below numRandomSeeds (2), got 2'],
      [{ chunkId: 1 }, 'GenerateTask option "chunkId": is set per element by the map when fanOut is true; leave it unset'],
      [{ seedIndex: 0 }, 'GenerateTask option "seedIndex": is set per element by the map when fanOut is true'],
      [{ fanOut: true, script: "/my/main.py" }, 'GenerateTask option "fanOut": needs the built-in generation client; it cannot be used with script'],
      [{ fanOut: false, merge: { elements: "/e.json" }, script: "/my/main.py" }, 'GenerateTask option "merge": needs the built-in generation client'],
      [{ fanOut: false, merge: { elements: "/e.json", shards: ["/s"] } }, 'GenerateTask option "merge": give elements or shards, not both'],
      [{ fanOut: false, merge: { other: 1 } }, 'GenerateTask: unknown option "merge.other"; known options: elements, shards'],
    ];
    for (const [extra, message] of bad) {
      expect(() => gen(extra), JSON.stringify(extra)).toThrow(TaskOptionError);
      expect(() => gen(extra), JSON.stringify(extra)).toThrow(message);
    }
  });
});

describe("LMEvalTask split into subtasks", () => {
  const evalTask = (extra: Record<string, unknown> = {}) =>
    new LMEvalTask({ ...base, config: "tasks: [tiny_nest]", includePath: "/tasks", backend: "hf", batchSize: 1, splitSubtasks: true, ...extra });

  it("the plan: list, element and recombine overrides; none without splitSubtasks", () => {
    expect(evalSplit(evalTask({ splitSubtasks: undefined }))).toBeUndefined();
    const plan = evalSplit(evalTask())!;
    expect(plan.tasks).toEqual(["tiny_nest"]);
    expect(plan.listOverrides).toEqual({ splitSubtasks: "false", listSubtasks: "true" });
    expect(plan.listArtifact).toBe("subtasks");
    expect(plan.elementOverrides).toEqual({ splitSubtasks: "false", subtask: "${item}" });
    expect(plan.recombineOverrides("ev")).toEqual({ splitSubtasks: "false", "recombine.elements": "${ev[*].elements}" });
    // The overrides, resolved, make valid drafts.
    expect(
      evalTask()
        .clone({ ...plan.listOverrides })
        .render(real(0)).argv,
    ).toEqual(evalListCommand(evalTask(), real(0)).argv);
    expect(
      evalTask()
        .clone({ ...plan.elementOverrides, subtask: "tiny_arith" })
        .render(real(1)).argv,
    ).toEqual(evalSubtaskCommand(evalTask(), "tiny_arith", real(1)).argv);
  });

  it("exact argv of the list, subtask and recombine jobs", () => {
    expect(evalListCommand(evalTask(), real(0)).argv).toEqual(["/venv/bin/python", "-m", "gpu_dag_runtime.evaluate", "list", "--tasks", "tiny_nest", "--include-path", "/tasks"]);
    const subtask = evalSubtaskCommand(evalTask(), "tiny_nest::tiny_arith_bare", real(1)).argv;
    expect(subtask.slice(0, 5)).toEqual(["/venv/bin/python", "-m", "gpu_dag_runtime.evaluate", "--model", "/models/tiny"]);
    expect(wordsAfter(subtask, "--tasks", 3)).toEqual(["tiny_nest", "--include-path", "/tasks"]);
    expect(subtask.slice(-2)).toEqual(["--subtask", "tiny_nest::tiny_arith_bare"]);
    expect(evalRecombineCommand(evalTask(), { elements: "/run/ev.elements.json" }, real(0)).argv).toEqual([
      "/venv/bin/python",
      "-m",
      "gpu_dag_runtime.evaluate",
      "recombine",
      "--tasks",
      "tiny_nest",
      "--include-path",
      "/tasks",
      "--elements",
      "/run/ev.elements.json",
    ]);
    expect(evalRecombineCommand(evalTask(), { results: ["/a.json", "/b.json"] }, simulate(0)).argv).toEqual([
      "python3",
      "-m",
      "gpu_dag_runtime.simulate",
      "evaluate",
      "recombine",
      "--tasks",
      "tiny_nest",
      "--include-path",
      "/tasks",
      "--results",
      "/a.json",
      "/b.json",
    ]);
    // The unsplit job is unchanged: no --subtask.
    expect(evalTask({ splitSubtasks: undefined }).render(real(1)).argv).not.toContain("--subtask");
  });

  it("bad combinations are refused where the draft is made, naming the option", () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ subtask: "tiny_arith" }, 'LMEvalTask option "subtask": is set by the split\'s steps when splitSubtasks is true; leave it unset'],
      [{ splitSubtasks: false, subtask: "a", listSubtasks: true }, 'LMEvalTask option "subtask": cannot be combined with listSubtasks'],
      [{ splitSubtasks: false, recombine: {} }, 'LMEvalTask option "recombine": give elements or results (one of them)'],
      [{ splitSubtasks: false, recombine: { elements: "/e", results: "/r" } }, 'LMEvalTask option "recombine": give elements or results'],
    ];
    for (const [extra, message] of bad) {
      expect(() => evalTask(extra), JSON.stringify(extra)).toThrow(TaskOptionError);
      expect(() => evalTask(extra), JSON.stringify(extra)).toThrow(message);
    }
  });
});

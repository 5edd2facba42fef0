/**
 * Pipelines as data: deterministic topological order, Mermaid text, YAML/JSON round trips, and
 * YAML errors naming file, line and field.
 */
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import { resolveQueue } from "../../../src/config/resolve-queue.js";
import { ConfigError } from "../../../src/errors.js";
import { buildGraph, findCyclePaths, topologicalOrder } from "../../../src/pipeline/graph.js";
import { step } from "../../../src/pipeline/refs.js";
import { loadTask } from "../../../src/tasks/registry.js";
import { localCluster, mulberry32, recordingTask, tempStore } from "../helpers.js";

function seedPipeline(): Pipeline {
  const p = new Pipeline({ projectName: "alexandre_debug", pipelineName: "my_pipeline" });
  p.addStep({ name: "step1", baseTaskId: "task_step1", executionQueue: "oneshot-a100x1" });
  p.addStep({ name: "step2", baseTaskId: "task_step2", parents: ["step1"], executionQueue: "oneshot-a100x1", parameterOverride: { "Args/model_id": "${step1.models.output.-1.id}" } });
  p.addStep({ name: "step3", baseTaskId: "task_step3", parents: ["step1"], executionQueue: "oneshot-a100x1", parameterOverride: { "Args/model_id": "${step1.models.output.-1.id}" } });
  return p;
}

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("topological order", () => {
  it("breaks ties by insertion order, so plans are the same every time", async () => {
    const store = await tempStore();
    const task = recordingTask("t");
    await task.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "topo" });
    // Inserted in reverse of any natural order; ties must follow insertion, not names.
    p.addStep({ name: "z", baseTaskId: task.id!, parents: ["m", "b"], executionQueue: "cpu" });
    p.addStep({ name: "m", baseTaskId: task.id!, parents: ["root2"], executionQueue: "cpu" });
    p.addStep({ name: "b", baseTaskId: task.id!, parents: ["root1"], executionQueue: "cpu" });
    p.addStep({ name: "root2", baseTaskId: task.id!, executionQueue: "cpu" });
    p.addStep({ name: "root1", baseTaskId: task.id!, executionQueue: "cpu" });
    p.addStep({ name: "y", baseTaskId: task.id!, executionQueue: "cpu", parameterOverride: { sleep: step("root1").metric("ms") } });
    const context = {
      loadTask: (id: string) => loadTask(id, store),
      checkQueue: (q: string) => {
        const r = resolveQueue(localCluster(), q);
        return "error" in r ? r.error : undefined;
      },
    };
    const orders = await Promise.all(Array.from({ length: 5 }, () => p.plan(context).then((plan) => plan.order)));
    for (const order of orders) expect(order).toEqual(["root2", "m", "root1", "b", "z", "y"]);
  });

  it("every edge goes forward in a random 200-node DAG, and the order is stable", () => {
    const rand = mulberry32(7);
    const nodes = Array.from({ length: 200 }, (_, i) => `n${i}`);
    const shuffled = [...nodes].sort(() => rand() - 0.5);
    const parents = new Map(nodes.map((n, i) => [n, nodes.slice(0, i).filter(() => rand() < 0.03)]));
    const graph = buildGraph(shuffled, (n) => parents.get(n)!);
    const order = topologicalOrder(graph, shuffled);
    expect([...order].sort()).toEqual([...nodes].sort());
    const position = new Map(order.map((n, i) => [n, i]));
    for (const [node, ps] of parents) for (const parent of ps) expect(position.get(parent)!).toBeLessThan(position.get(node)!);
    expect(
      topologicalOrder(
        buildGraph(shuffled, (n) => parents.get(n)!),
        shuffled,
      ),
    ).toEqual(order);
    expect(findCyclePaths(graph)).toEqual([]);
  });

  it("names every cycle, self-loops included", () => {
    const parents: Record<string, string[]> = { a: ["c"], b: ["a"], c: ["b"], x: ["x"], p: ["q"], q: ["p"], free: [] };
    const graph = buildGraph(Object.keys(parents), (n) => parents[n]!);
    expect(
      findCyclePaths(graph)
        .map((c) => c.join(" → "))
        .sort(),
    ).toEqual(["a → b → c → a", "p → q → p", "x → x"]);
  });
});

describe("toMermaid", () => {
  it("draws the seed pipeline", () => {
    expect(seedPipeline().toMermaid()).toBe(
      ["graph TD;", '    step1["step1<br>oneshot-a100x1"];', '    step2["step2<br>oneshot-a100x1"];', '    step3["step3<br>oneshot-a100x1"];', "    step1 --> step2;", "    step1 --> step3;", ""].join(
        "\n",
      ),
    );
  });

  it("adds placeholder edges, escapes labels, maps '-' in ids, colours states", () => {
    const p = new Pipeline({ projectName: "unit", pipelineName: "m" });
    p.addStep({ name: "pre-process", baseTaskId: "t", executionQueue: "cpu" });
    p.addStep({ name: "train", baseTaskId: "t", executionQueue: "q-x2", parameterOverride: { x: "$<pre-process.artifacts.data.url>" } });
    expect(p.toMermaid({ labels: { train: 'uses "data" <big>' }, states: { "pre-process": "succeeded", train: "running" } })).toBe(
      [
        "graph TD;",
        '    pre_2d_process["pre-process<br>cpu"];',
        '    train["train<br>uses #quot;data#quot; #lt;big#gt;"];',
        "    pre_2d_process --> train;",
        "    classDef succeeded fill:#c8e6c9,stroke:#2e7d32;",
        "    classDef cached fill:#e0f2f1,stroke:#00695c;",
        "    classDef failed fill:#ffcdd2,stroke:#c62828;",
        "    classDef running fill:#fff9c4,stroke:#f9a825;",
        "    classDef queued fill:#e3f2fd,stroke:#1565c0;",
        "    classDef skipped fill:#eeeeee,stroke:#9e9e9e;",
        "    classDef cancelled fill:#eeeeee,stroke:#616161;",
        "    classDef pending fill:#ffffff,stroke:#9e9e9e;",
        "    class pre_2d_process succeeded;",
        "    class train running;",
        "",
      ].join("\n"),
    );
  });
});

describe("pipelines as data", () => {
  function richPipeline(): Pipeline {
    const p = new Pipeline({ projectName: "unit", pipelineName: "rich", description: "all the fields" });
    p.addParameter("model", "meta-llama/Llama-3.2-1B-Instruct", "the base model");
    p.addParameter("limit", 10);
    p.addInlineTask("compress", "llm-compressor", { modelId: "${pipeline.model}", config: "quantization_w4a16" });
    p.setDefaults({ retryOnFailure: 1, timeLimit: "2h", executionQueue: "oneshot-a100x1" });
    p.addStep({ name: "step1", baseTaskId: "compress" });
    p.addStep({
      name: "step2",
      baseTaskId: "task_abc",
      parents: ["step1"],
      executionQueue: "oneshot-a100x2",
      parameterOverride: { "Args/model_id": step("step1").model(-1).id, tasks: ["arc", "$<pipeline.limit>"], modelArgs: { dtype: "bf16" }, limit: 5, applyChatTemplate: true },
      continueOnFail: true,
      cacheExecutedStep: true,
    });
    return p;
  }

  it("YAML round trip gives the same spec", () => {
    const p = richPipeline();
    const yaml = p.toYaml();
    const back = Pipeline.fromYaml(yaml, "rich.yaml");
    expect(back).toBeInstanceOf(Pipeline);
    expect(back.toSpec()).toEqual(p.toSpec());
    expect(back.toYaml()).toBe(yaml);
    expect(p.toSpec().steps[0]!.executionQueue).toBe("oneshot-a100x1");
    expect(p.toSpec().defaults.timeLimit).toBe(7200);
  });

  it("JSON round trip gives the same spec", () => {
    const p = richPipeline();
    const back = Pipeline.fromSpec(JSON.parse(JSON.stringify(p)), "rich.json");
    expect(back.toSpec()).toEqual(p.toSpec());
  });

  it("names file, line and field for a bad field", () => {
    const text = ["projectName: p", "pipelineName: q", "steps:", "  - name: a", "    baseTaskId: t", "    executionQueue: 5", ""].join("\n");
    const error = configError(() => Pipeline.fromYaml(text, "my.yaml"));
    expect(error.message).toBe("my.yaml:6: steps.0.executionQueue: expected a string, got 5 (number)");
    expect([error.file, error.line, error.field]).toEqual(["my.yaml", 6, "steps.0.executionQueue"]);
  });

  it("names file, line and field for an unknown key, and lists every problem", () => {
    const text = ["projectName: p", "pipelineName: q", "steps:", "  - name: a", "    baseTaskId: t", "    executionQueue: q", "    parnts: [b]", "  - name: 2b", ""].join("\n");
    const error = configError(() => Pipeline.fromYaml(text, "my.yaml"));
    expect(error.message).toBe(
      [
        'my.yaml:7: steps.0.parnts: Unrecognized key: "parnts" (did you mean "parents"?)',
        'my.yaml:8: steps.1.name: "2b" must start with an ASCII letter or "_"',
        "my.yaml:8: steps.1.baseTaskId: expected a string, got nothing (it is required)",
        "my.yaml:8: steps.1.executionQueue: expected a string, got nothing (it is required)",
      ].join("\n"),
    );
    expect([error.line, error.field]).toEqual([7, "steps.0.parnts"]);
  });

  it("names file and line for YAML that does not parse", () => {
    const text = ["projectName: p", "pipelineName: q", "steps:", "  - name: [a", "    baseTaskId: t", ""].join("\n");
    const error = configError(() => Pipeline.fromYaml(text, "broken.yaml"));
    // The unclosed "[" on line 4 is noticed where the next line dedents.
    expect(error.message).toMatch(/^broken\.yaml:5: invalid YAML: Flow sequence/);
    expect([error.file, error.line]).toEqual(["broken.yaml", 5]);
    const dup = configError(() => Pipeline.fromYaml("projectName: p\npipelineName: q\nprojectName: r\n", "dup.yaml"));
    expect(dup.message).toBe("dup.yaml:3: invalid YAML: Map keys must be unique");
    expect(dup.line).toBe(3);
  });
});

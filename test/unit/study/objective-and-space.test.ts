/**
 * The pure parts of a study: the objective's parser and evaluator (no `eval`: hostile text is a
 * syntax error), the interleaved grid order, seeded random draws, and the submit-time checks.
 */
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import { ConfigError } from "../../../src/errors.js";
import { checkStudy } from "../../../src/study/check-study.js";
import { interleavedGrid } from "../../../src/study/grid-order.js";
import { evaluateObjective, metricRefs, parseObjective } from "../../../src/study/objective.js";
import { configurations } from "../../../src/study/space.js";
import { StudySpecSchema } from "../../../src/study/study-spec.js";
import { tempStore } from "../helpers.js";

describe("objective expressions", () => {
  const metrics = { eval: { "openllm/average": 0.6, acc: 0.5 }, "eval-base": { "openllm/average": 0.8 } };
  const value = (text: string) => evaluateObjective(parseObjective(text), metrics);

  it("reads metrics by bracket and dot, with arithmetic, precedence and functions", () => {
    expect(value('eval.metrics["openllm/average"]')).toEqual({ ok: true, value: 0.6 });
    expect(value("eval.metrics.acc * 2 + 1")).toEqual({ ok: true, value: 2 });
    expect(value("-(1 + 2) * 3")).toEqual({ ok: true, value: -9 });
    expect(value('100 * eval.metrics["openllm/average"] / eval-base.metrics["openllm/average"]')).toEqual({ ok: true, value: 75 });
    expect(value("max(eval.metrics.acc, 0.7) - min(1, 2, 3)")).toEqual({ ok: true, value: -0.30000000000000004 });
    expect(value("mean(1, 2, 6) + abs(-1) + 1e-1")).toEqual({ ok: true, value: 4.1 });
    expect(metricRefs(parseObjective("eval.metrics.acc + eval.metrics.acc + eval-base.metrics['x']"))).toEqual([
      { step: "eval", metric: "acc" },
      { step: "eval-base", metric: "x" },
    ]);
  });

  it("a missing metric or a non-finite value is a reason, not a throw", () => {
    expect(value('eval.metrics["nope"]')).toEqual({ ok: false, reason: 'objective missing: step "eval" reported no metric "nope" (it reported: openllm/average, acc)' });
    expect(value("gone.metrics.x")).toEqual({ ok: false, reason: 'objective missing: step "gone" reported no metric "x"' });
    expect(value("eval.metrics.acc / 0")).toEqual({ ok: false, reason: "objective is not a finite number (Infinity)" });
  });

  it("anything else is a syntax error naming where", () => {
    for (const [text, message] of [
      ["", "expected an expression, found the end"],
      ["eval.metrics[", "expected a quoted metric name, found the end"],
      ["eval.metric.acc", 'expected "metrics" after step "eval."'],
      ["process.exit(1)", 'expected "metrics" after step "process."'],
      ["require('fs')", 'unknown function "require" at 1'],
      ["1 +", "expected a number"],
      ["eval.metrics.acc; 1", 'unexpected ";" at 17'],
      ["(1", 'expected ")"'],
      ["1 2", "expected an operator or the end"],
      ['eval.metrics["x', "unterminated string"],
      ["abs(1, 2)", "abs() takes one argument"],
    ] as const) {
      expect(() => parseObjective(text), text).toThrow(message);
    }
  });
});

describe("grid order", () => {
  it("interleaves the axes of a 6 × 2 grid", () => {
    expect(interleavedGrid([6, 2], 12)).toEqual([
      [0, 0],
      [1, 1],
      [2, 0],
      [3, 1],
      [4, 0],
      [5, 1],
      [0, 1],
      [1, 0],
      [2, 1],
      [3, 0],
      [4, 1],
      [5, 0],
    ]);
  });

  it("every prefix covers min(k, n) values of each axis, and the whole order is the whole grid", () => {
    for (const sizes of [[6, 2], [3, 4, 2], [5], [2, 2, 2, 2], [7, 3]]) {
      const total = sizes.reduce((a, b) => a * b, 1);
      const order = interleavedGrid(sizes, total);
      expect(new Set(order.map((p) => p.join(","))).size).toBe(total);
      for (let k = 1; k <= total; k++) {
        sizes.forEach((n, j) => expect(new Set(order.slice(0, k).map((p) => p[j])).size, `${sizes} k=${k} axis ${j}`).toBe(Math.min(k, n)));
      }
    }
  });

  it("random draws are seeded, in range, on the log scale, without repeats", () => {
    const spec = StudySpecSchema.parse({
      method: "random",
      trials: 50,
      seed: 7,
      parameters: { lr: { float: { min: 1e-5, max: 1e-1, log: true } }, n: { int: { min: 16, max: 128, step: 16 } }, s: ["a", "b"] },
      objective: "e.metrics.x",
    });
    const a = configurations(spec, "random", 50);
    expect(configurations(spec, "random", 50)).toEqual(a);
    expect(configurations({ ...spec, seed: 8 }, "random", 50)).not.toEqual(a);
    expect(new Set(a.map((p) => JSON.stringify(p))).size).toBe(50);
    for (const p of a) {
      expect(p["lr"]).toBeGreaterThanOrEqual(1e-5);
      expect(p["lr"]).toBeLessThanOrEqual(1e-1);
      expect(Number(p["n"]) % 16).toBe(0);
    }
    // Log-uniform: about half of the draws fall below the geometric middle (1e-3).
    const below = a.filter((p) => Number(p["lr"]) < 1e-3).length;
    expect(below).toBeGreaterThan(15);
    expect(below).toBeLessThan(35);
    // A finite space runs out instead of repeating.
    expect(configurations(StudySpecSchema.parse({ ...spec, parameters: { s: ["a", "b", "c"] } }), "random", 10)).toHaveLength(3);
  });

  it("a float grid takes count points, log-spaced on a log scale", () => {
    const spec = StudySpecSchema.parse({ parameters: { d: { float: { min: 0.001, max: 0.1, log: true, count: 3 } } }, objective: "e.metrics.x" });
    expect(configurations(spec, "grid", undefined).map((p) => p["d"])).toEqual([0.001, 0.01, 0.1]);
  });
});

describe("submit-time checks", () => {
  it("lists every problem at once: undeclared parameters, unknown steps, syntax", async () => {
    const store = await tempStore();
    const pipeline = new Pipeline({ projectName: "p", pipelineName: "q" }).addParameter("damp", 0.01).addParameter("limit", 10);
    pipeline.addStep({ name: "evaluate", baseTaskId: "t", executionQueue: "cpu" });
    const spec = StudySpecSchema.parse({
      method: "halving",
      parameters: { dampp: [0.1, 0.2] },
      fixed: { limit: 3 },
      halving: { parameter: "limit", rungs: [1, 2] },
      objective: 'evaluat.metrics["acc"]',
    });
    const error = await checkStudy(spec, pipeline.toSpec(), store, "study.yaml").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain("study.yaml: 3 problems:");
    expect(message).toContain('parameters.dampp: "dampp" is not a parameter of pipeline p/q (declared: damp, limit); did you mean "damp"?');
    expect(message).toContain('halving.parameter: "limit" sets the rung budget: it cannot also be searched or fixed');
    expect(message).toContain('objective.expression: the objective reads step "evaluat", which the pipeline does not have (steps: evaluate); did you mean "evaluate"?');
    expect(() => StudySpecSchema.parse({ parameters: { x: { float: { min: 1, max: 0 } } }, objective: "a.metrics.b" })).toThrow("min 1 must be below max 0");
  });
});

/**
 * Placeholder grammar: both spellings, several per string, negative indexes, escapes, errors,
 * the typed helpers, and substitution.
 */
import { describe, expect, it } from "vitest";
import { PlaceholderError } from "../../../src/errors.js";
import { escapePlaceholders, findPlaceholders, type Placeholder, parseTemplate, substitute } from "../../../src/pipeline/placeholders.js";
import { pipelineParam, step } from "../../../src/pipeline/refs.js";

function thrown(f: () => unknown): PlaceholderError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(PlaceholderError);
    return error as PlaceholderError;
  }
  throw new Error("expected a PlaceholderError");
}

describe("parseTemplate", () => {
  it("parses every kind of reference, in both spellings", () => {
    const cases: Array<[string, Placeholder["ref"]]> = [
      ["${pipeline.lr}", { kind: "pipeline", param: "lr" }],
      ["$<pipeline.model.name>", { kind: "pipeline", param: "model.name" }],
      ["${step1.id}", { kind: "id", step: "step1" }],
      ["${step1.parameters.Args/model_id}", { kind: "parameter", step: "step1", name: "Args/model_id" }],
      ["$<s_2.parameters.numFewshot>", { kind: "parameter", step: "s_2", name: "numFewshot" }],
      ["${s.artifacts.recipe.url}", { kind: "artifact", step: "s", name: "recipe", field: "url" }],
      ["${s.artifacts.a.b.id}", { kind: "artifact", step: "s", name: "a.b", field: "id" }],
      ["${step1.models.output.-1.id}", { kind: "model", step: "step1", index: -1, field: "id" }],
      ["$<step1.models.output.-2.url>", { kind: "model", step: "step1", index: -2, field: "url" }],
      ["${step-1.models.output.0.name}", { kind: "model", step: "step-1", index: 0, field: "name" }],
      ["${s.models.output.12.id}", { kind: "model", step: "s", index: 12, field: "id" }],
      ["${s.metrics.openllm/acc}", { kind: "metric", step: "s", name: "openllm/acc" }],
      ["${ s.id }", { kind: "id", step: "s" }],
    ];
    for (const [text, ref] of cases) expect(parseTemplate(text), text).toEqual([{ ref, raw: text, offset: 0 }]);
  });

  it("finds several placeholders per string with the literal text between them", () => {
    expect(parseTemplate("a ${s.models.output.-2.url} b $<t.metrics.acc> c${pipeline.p}")).toEqual([
      "a ",
      { ref: { kind: "model", step: "s", index: -2, field: "url" }, raw: "${s.models.output.-2.url}", offset: 2 },
      " b ",
      { ref: { kind: "metric", step: "t", name: "acc" }, raw: "$<t.metrics.acc>", offset: 30 },
      " c",
      { ref: { kind: "pipeline", param: "p" }, raw: "${pipeline.p}", offset: 48 },
    ]);
  });

  it("treats $${…} and $$<…> as literal text", () => {
    expect(parseTemplate("$${lit} and $$<lit2> but ${s.id}")).toEqual(["${lit} and $<lit2> but ", { ref: { kind: "id", step: "s" }, raw: "${s.id}", offset: 25 }]);
    expect(parseTemplate("$${HOME}")).toEqual(["${HOME}"]);
    expect(parseTemplate("cost: $5, $$ and $")).toEqual(["cost: $5, $$ and $"]);
    expect(findPlaceholders("$${s.id}")).toEqual([]);
  });

  it("escapePlaceholders makes any text literal", () => {
    const text = "${a} $<b> $x ${";
    expect(escapePlaceholders(text)).toBe("$${a} $$<b> $x $${");
    expect(parseTemplate(escapePlaceholders("${a} $<b>"))).toEqual(["${a} $<b>"]);
  });

  it("reports an unclosed placeholder with its column", () => {
    expect(thrown(() => parseTemplate("${s.models.output.1.id")).message).toBe('unclosed placeholder at column 1 of "${s.models.output.1.id": missing "}"');
    expect(thrown(() => parseTemplate("x $<s.id")).message).toBe('unclosed placeholder at column 3 of "x $<s.id": missing ">"');
    expect(thrown(() => parseTemplate("ok ${s.id} then ${t.id")).message).toBe('unclosed placeholder at column 17 of "ok ${s.id} then ${t.id": missing "}"');
  });

  it("reports a malformed placeholder with the grammar", () => {
    const help =
      "expected ${pipeline.<param>}, ${<step>.id}, ${<step>.parameters.<name>}, ${<step>.artifacts.<name>.url}, ${<step>.models.output.<index>.id|url|name}, ${<step>.metrics.<name>}, ${item.<axis>} or, for a map step, ${<step>[<selector>].…}";
    for (const text of ["${s.foo}", "${}", "${s.artifacts.a.path}", "$<1s.id>", "${s.models.output.-1.path}"]) {
      const error = thrown(() => parseTemplate(text));
      expect(error.message, text).toBe(
        text.includes("models")
          ? `invalid placeholder "${text}": models are referenced as <step>.models.output.<index>.id|url|name with an integer index (e.g. -1 for the last)`
          : `invalid placeholder "${text}": ${help}`,
      );
      expect(error.text).toBe(text);
      expect(error.code).toBe("E_PLACEHOLDER");
    }
    expect(thrown(() => parseTemplate("${s.models.output.last.id}")).message).toContain("with an integer index");
    expect(thrown(() => parseTemplate("${s.models.-1.id}")).message).toContain("with an integer index");
  });

  it("finds placeholders nested in arrays and objects", () => {
    const found = findPlaceholders({ a: ["x", "${s.id}"], b: { c: "$<t.metrics.m>" }, n: 3 });
    expect(found.map((p) => p.raw)).toEqual(["${s.id}", "$<t.metrics.m>"]);
  });
});

describe("typed placeholder helpers", () => {
  it("build strings that parse back to the same reference", () => {
    const s = step("step1");
    const built: Array<[string, Placeholder["ref"]]> = [
      [s.id, { kind: "id", step: "step1" }],
      [s.model().id, { kind: "model", step: "step1", index: -1, field: "id" }],
      [s.model(-1).id, { kind: "model", step: "step1", index: -1, field: "id" }],
      [s.model(-3).url, { kind: "model", step: "step1", index: -3, field: "url" }],
      [s.model(2).name, { kind: "model", step: "step1", index: 2, field: "name" }],
      [s.artifact("recipe").url, { kind: "artifact", step: "step1", name: "recipe", field: "url" }],
      [s.artifact("recipe").id, { kind: "artifact", step: "step1", name: "recipe", field: "id" }],
      [s.metric("openllm/acc"), { kind: "metric", step: "step1", name: "openllm/acc" }],
      [s.parameter("Args/model_id"), { kind: "parameter", step: "step1", name: "Args/model_id" }],
      [pipelineParam("lr"), { kind: "pipeline", param: "lr" }],
    ];
    expect(s.model(-1).id).toBe("${step1.models.output.-1.id}");
    expect(pipelineParam("lr")).toBe("${pipeline.lr}");
    for (const [text, ref] of built) expect(parseTemplate(text), text).toEqual([{ ref, raw: text, offset: 0 }]);
  });
});

describe("substitute", () => {
  const values: Record<string, string | number> = { "${s.metrics.m}": 0.5, "$<s.id>": "run.s", "${pipeline.p}": "P" };
  const resolve = (p: Placeholder) => values[p.raw]!;

  it("keeps the type of a value that is exactly one placeholder, joins text otherwise", () => {
    expect(substitute("${s.metrics.m}", resolve)).toBe(0.5);
    expect(substitute("m=${s.metrics.m} id=$<s.id>", resolve)).toBe("m=0.5 id=run.s");
    expect(substitute({ a: ["${pipeline.p}", 3], b: "$${pipeline.p}" }, resolve)).toEqual({ a: ["P", 3], b: "${pipeline.p}" });
  });
});

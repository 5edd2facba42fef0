import { describe, expect, it } from "vitest";
import { checkKnownKeys, didYouMean, levenshtein, normalizeName } from "../../../src/args/index.js";

describe("levenshtein", () => {
  it.each([
    ["", "", 0],
    ["", "abc", 3],
    ["abc", "", 3],
    ["abc", "abc", 0],
    ["kitten", "sitting", 3],
    ["flaw", "lawn", 2],
    ["ab", "ba", 2],
    ["😀a", "😀b", 1],
    ["é", "e", 1],
  ])("%j vs %j = %i", (a, b, d) => {
    expect(levenshtein(a, b)).toBe(d);
    expect(levenshtein(b, a)).toBe(d);
  });
});

describe("didYouMean", () => {
  const options = ["modelId", "numGpus", "execution_queue", "prompt_config", "temperature"];

  it("suggests the closest candidate", () => {
    expect(didYouMean("modelid", options)).toBe("modelId");
    expect(didYouMean("numGPUs", options)).toBe("numGpus");
    expect(didYouMean("temprature", options)).toBe("temperature");
    expect(didYouMean("execution-queue", options)).toBe("execution_queue");
  });

  it("returns undefined when nothing is within max(2, len/3)", () => {
    expect(didYouMean("xyz", options)).toBeUndefined();
    expect(didYouMean("anything", [])).toBeUndefined();
  });

  it("short inputs tolerate 2 edits, long ones len/3", () => {
    expect(didYouMean("ab", ["abcd"])).toBe("abcd"); // distance 2
    expect(didYouMean("ab", ["abcde"])).toBeUndefined(); // distance 3
    const long = "abcdefghijkl"; // 12 → limit 4
    expect(didYouMean(long, ["abcdefghWXYZ"])).toBe("abcdefghWXYZ");
    expect(didYouMean(long, ["abcdefgVWXYZ"])).toBeUndefined();
  });

  it("breaks ties by candidate order and accepts any iterable", () => {
    expect(didYouMean("cat", ["bat", "cap"])).toBe("bat");
    expect(didYouMean("cat", new Set(["cap", "bat"]))).toBe("cap");
  });

  it("an exact match is its own suggestion", () => {
    expect(didYouMean("modelId", options)).toBe("modelId");
  });

  it("a candidate that differs only in case or word separators wins, however far in edits", () => {
    // Edit distance 6 and 9: beyond the typo limit, but the same name in another convention.
    expect(didYouMean("MODEL_ID", ["model", "modelId"])).toBe("modelId");
    expect(didYouMean("CONTINUE_ON_FAIL", ["continueOnFail", "cacheExecutedStep"])).toBe("continueOnFail");
    expect(didYouMean("args/model_id", ["modelId", "Args/model_id"])).toBe("Args/model_id");
    expect(didYouMean("IDENTITY-FILE", ["identityFile", "knownHosts"])).toBe("identityFile");
    expect(normalizeName("Args/Model-Id_x")).toBe("args/modelidx");
  });

  it("checkKnownKeys suggests a Hydra key written in another case", () => {
    const [problem] = checkKnownKeys("++INFERENCE.TEMPERATURE=0.6", ["inference.temperature", "server"], "ctx");
    expect(problem?.message).toBe('ctx: unknown key "INFERENCE.TEMPERATURE" in "++INFERENCE.TEMPERATURE=0.6"; did you mean "inference.temperature"?');
  });
});

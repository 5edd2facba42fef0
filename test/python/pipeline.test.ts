/**
 * The real pipeline on a tiny local model, every tool for real: llm-compressor oneshot (GPTQ W4A16)
 * → lm-eval (hf backend) on the original and the compressed model over a local task → 20 answers
 * from the compressed model through a real OpenAI-compatible server (`transformers serve`).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildTinyFixture, pythonEnv, readJsonl, readManifest, runRunner, type TinyFixture } from "./env.js";

const env = await pythonEnv();

// W4A16 GPTQ runs on CPU in about a second on the tiny model. `$scheme` exercises --recipe-args.
const RECIPE = `quant_stage:
  quant_modifiers:
    GPTQModifier:
      ignore: ["lm_head"]
      scheme: $scheme
      targets: ["Linear"]
      dampening_frac: 0.01
`;

describe.skipIf(env.skip !== undefined)("python tier: compress → evaluate → generate on a tiny model", () => {
  const python = env.python ?? "";
  let fixture: TinyFixture;
  let work: string;
  let compressedModel: string;

  beforeAll(async () => {
    fixture = await buildTinyFixture(python);
    work = await mkdtemp(join(tmpdir(), "gpu-dag-pipeline-"));
  });

  it("compresses with llm-compressor (GPTQ W4A16) and registers model + recipe", async () => {
    const out = join(work, "compress");
    const result = await runRunner(
      python,
      "compress",
      [
        "--model", fixture.model,
        "--recipe-yaml", RECIPE,
        "--recipe-args", JSON.stringify({ scheme: "W4A16" }),
        "--dataset", fixture.calibration,
        "--num-samples", "16",
        "--max-seq-length", "64",
        "--save-compressed", "true",
      ],
      { outputDir: out },
    );
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    const manifest = await readManifest(out);
    expect(manifest.models).toHaveLength(1);
    const model = manifest.models[0]!;
    expect(model.name).toBe("model-W4A16");
    expect(model.path).toBe(join(out, "model"));
    compressedModel = model.path;
    const config = JSON.parse(await readFile(join(model.path, "config.json"), "utf8")) as Record<string, any>;
    expect(config["quantization_config"]).toBeDefined();
    expect(config["quantization_config"]["quant_method"]).toBe("compressed-tensors");
    const group = Object.values(config["quantization_config"]["config_groups"] as Record<string, any>)[0];
    expect(group["weights"]["num_bits"]).toBe(4);
    expect(existsSync(join(model.path, "tokenizer.json"))).toBe(true);
    const recipe = manifest.artifacts.find((a) => a.name === "recipe");
    expect(recipe).toBeDefined();
    expect(await readFile(recipe!.path, "utf8")).toContain("scheme: W4A16");
    expect(manifest.metrics["compress/duration_s"]).toBeGreaterThan(0);
  });

  for (const which of ["original", "compressed"] as const) {
    it(`evaluates the ${which} model with lm-eval (hf backend) on the local task group`, async () => {
      const out = join(work, `eval-${which}`);
      const model = which === "original" ? fixture.model : compressedModel;
      const result = await runRunner(
        python,
        "evaluate",
        ["--model", model, "--backend", "hf", "--tasks", fixture.group, "--include-path", fixture.tasks_dir, "--batch-size", "4", "--device", "cpu"],
        { outputDir: out },
      );
      expect(result.code, result.stderr.slice(-3000)).toBe(0);
      const manifest = await readManifest(out);
      for (const name of ["tiny_arith/acc", "tiny_arith/acc_stderr", "tiny_words/acc", "tiny_suite/acc", "tiny_suite/acc_norm"]) {
        expect(typeof manifest.metrics[name], name).toBe("number");
        expect(Number.isFinite(manifest.metrics[name])).toBe(true);
      }
      expect(manifest.metrics["tiny_arith/acc"]).toBeGreaterThanOrEqual(0);
      expect(manifest.metrics["tiny_arith/acc"]).toBeLessThanOrEqual(1);
      expect(Object.keys(manifest.metrics).some((k) => k.includes(",none"))).toBe(false);
      const results = manifest.artifacts.find((a) => a.name === "results");
      const parsed = JSON.parse(await readFile(results!.path, "utf8")) as { results: Record<string, unknown> };
      expect(Object.keys(parsed.results)).toEqual(expect.arrayContaining(["tiny_arith", "tiny_words", "tiny_suite"]));
    });
  }

  it("generates 20 answers with the compressed model through `transformers serve`", async () => {
    const out = join(work, "generate");
    const result = await runRunner(
      python,
      "generate",
      [
        "--server-type", "transformers",
        "--model", compressedModel,
        "--server-gpus", "0",
        "--server-nodes", "1",
        "--input-file", fixture.generation_input,
        "--output-file", join(out, "output.jsonl"),
        "--prompt-config", fixture.prompt_config,
        "--max-concurrency", "4",
        "--timeout-s", "300",
        "++inference.temperature=0.6",
        "++inference.tokens_to_generate=16",
      ],
      { outputDir: out },
    );
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    const rows = await readJsonl(join(out, "output.jsonl"));
    expect(rows).toHaveLength(20);
    rows.forEach((row, i) => {
      expect(row["id"]).toBe(i);
      expect(typeof row["generation"]).toBe("string");
      expect((row["generation"] as string).length).toBeGreaterThan(0);
    });
    const manifest = await readManifest(out);
    expect(manifest.metrics["generation/num_rows"]).toBe(20);
    expect(manifest.artifacts.map((a) => a.name)).toEqual(expect.arrayContaining(["output", "server_log"]));
    expect(result.stderr).toMatch(/model server stopped/);
  });
});

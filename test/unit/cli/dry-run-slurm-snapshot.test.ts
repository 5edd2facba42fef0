/**
 * Issue 5's pipeline (compress → eval original + compressed → generate) rendered for a Slurm
 * cluster with `run --dry-run`: the batch scripts are reviewed as snapshots, and the GPU queue's
 * generation job starts `vllm serve` with tensor parallel = the queue's 4 GPUs.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gd, json, tempHome } from "./cli-helpers.js";

const PIPELINE = "examples/compress-eval-generate/pipeline.yaml";
const CLUSTER = "examples/compress-eval-generate/cluster_configs/slurm-gpu.yaml";

interface DryRun {
  steps: Array<{ name: string; argv: string[]; batchScript?: string; resources: { gpus: number } }>;
}

describe("dry run of the compress → eval → generate pipeline on Slurm", () => {
  it("renders vllm serve with tensor parallel = GPUs, submits nothing, and matches the reviewed scripts", async () => {
    const home = await tempHome();
    const result = await gd(home, ["run", PIPELINE, "--cluster", CLUSTER, "--dry-run", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(home, "runs"))).toBe(false);
    const plan = json<DryRun>(result);
    expect(plan.steps.map((s) => s.name)).toEqual(["compress", "eval_original", "eval_compressed", "generate"]);

    const generate = plan.steps.find((s) => s.name === "generate")!;
    expect(generate.resources.gpus).toBe(4);
    expect(generate.batchScript).toContain("#SBATCH --gres=gpu:4");
    expect(generate.batchScript).toContain("'vllm serve {model} --host 127.0.0.1 --port {port} --tensor-parallel-size 4'");
    const evalCompressed = plan.steps.find((s) => s.name === "eval_compressed")!;
    expect(evalCompressed.argv.slice(evalCompressed.argv.indexOf("--tensor-parallel-size"), evalCompressed.argv.indexOf("--tensor-parallel-size") + 2)).toEqual(["--tensor-parallel-size", "4"]);

    for (const step of plan.steps) {
      await expect(step.batchScript).toMatchFileSnapshot(`./__snapshots__/compress-eval-generate/${step.name}.sbatch`);
    }
  });
});

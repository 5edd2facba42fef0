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

describe("dry run of a map step on Slurm", () => {
  it("shows the job array its elements go as (%K from maxParallel) and each element's own script", async () => {
    const home = await tempHome();
    const cluster = join(home, "slurm.yaml");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(
      cluster,
      ["executor: slurm", "ssh: { host: login.example.org, user: me }", "jobDir: /shared/me/gpu-dag", "partition: cpu", "queues:", "  cpu: { partition: cpu, cpus: 1, time: 1h }"].join("\n"),
    );
    const result = await gd(home, ["run", "examples/map-pipeline/pipeline.yaml", "--cluster", cluster, "--dry-run", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(home, "runs"))).toBe(false);
    const plan = json<DryRun & { maps: Array<{ name: string; arrays: Array<{ jobName: string; throttle?: number; script: string }> }> }>(result);
    const [map] = plan.maps;
    expect(map!.name).toBe("generate");
    expect(map!.arrays).toHaveLength(1);
    expect(map!.arrays[0]!.script).toContain("#SBATCH --array=0-5%4");
    await expect(map!.arrays[0]!.script).toMatchFileSnapshot("./__snapshots__/map-pipeline/generate.array.sbatch");
    const element = plan.steps.find((s) => s.name === "generate[4]")!;
    await expect(element.batchScript).toMatchFileSnapshot("./__snapshots__/map-pipeline/generate-4.sh");
  });
});

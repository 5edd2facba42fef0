/**
 * The simulate runtime stands in for the fan-out's jobs too (what map steps in `runtime:
 * "simulate"` run): a generation element writes its shard as the real one does, the merge is the
 * real merge's checks and atomic write, and the evaluation's list / subtask / recombine jobs
 * write outputs of the real ones' shape. Run from the argv the plans render, with `python3`.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { generationElementCommand, generationElements, generationMergeCommand } from "../../../src/tasks/generate-fan-out.js";
import { GenerateTask } from "../../../src/tasks/generate-task.js";
import { evalListCommand, evalRecombineCommand, evalSubtaskCommand } from "../../../src/tasks/lm-eval-split.js";
import { LMEvalTask } from "../../../src/tasks/lm-eval-task.js";
import type { RenderContext } from "../../../src/tasks/task-draft.js";

const exec = promisify(execFile);
const PYTHON_DIR = resolve(import.meta.dirname, "../../../python");
const context: RenderContext = { runtime: "simulate", python: "python3", gpus: 0 };

async function run(argv: string[], outputDir: string): Promise<{ code: number; stderr: string; manifest?: Record<string, any> }> {
  const env = { ...process.env, PYTHONPATH: PYTHON_DIR, GPU_DAG_OUTPUT_DIR: outputDir, GPU_DAG_SIMULATE_SECONDS: "0" };
  await exec("mkdir", ["-p", outputDir]);
  try {
    const { stderr } = await exec(argv[0]!, argv.slice(1), { env });
    return { code: 0, stderr, manifest: JSON.parse(await readFile(join(outputDir, "outputs.json"), "utf8")) };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

describe("simulated fan-out jobs", () => {
  it("generation: elements write their row-range shards; the merge checks them and writes output-rs{S}.jsonl", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gpu-dag-simfan-"));
    await writeFile(join(dir, "in.jsonl"), Array.from({ length: 7 }, (_, i) => JSON.stringify({ id: i }) + "\n").join(""));
    const task = new GenerateTask({
      projectName: "p",
      taskName: "t",
      modelId: "m",
      inputFile: join(dir, "in.jsonl"),
      outputFile: join(dir, "out", "output.jsonl"),
      numRandomSeeds: 2,
      numChunks: 2,
      fanOut: true,
    });
    for (const element of generationElements(task)) {
      const r = await run(generationElementCommand(task, element, context).argv, join(dir, `e${element.seed}${element.chunk}`));
      expect(r.code, r.stderr).toBe(0);
      expect(r.manifest!["simulated"]).toBe(true);
      const shard = r.manifest!["artifacts"][0];
      expect(shard.name).toBe("shard");
      expect(basename(shard.path)).toBe(element.chunk === 0 ? `output-rs${element.seed}.chunk-0-of-2.rows-0-3.jsonl` : `output-rs${element.seed}.chunk-1-of-2.rows-3-7.jsonl`);
    }
    const merged = await run(generationMergeCommand(task, 1, {}, context).argv, join(dir, "m1"));
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.manifest!["artifacts"].map((a: { name: string }) => a.name)).toEqual(["output-rs1", "merged"]);
    expect(merged.manifest!["metrics"]["generation/num_rows"]).toBe(7);
    const rows = (await readFile(join(dir, "out", "output-rs1.jsonl"), "utf8")).trim().split("\n");
    expect(rows.map((l) => JSON.parse(l).id)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // A gap is refused in simulate mode too, naming it.
    await rm(join(dir, "out", "output-rs0.chunk-1-of-2.rows-3-7.jsonl"));
    const gap = await run(generationMergeCommand(task, 0, {}, context).argv, join(dir, "m0"));
    expect(gap.code).toBe(2);
    expect(gap.stderr).toContain("chunk 1 (rows 3-7): no shard output-rs0.chunk-1-of-2.rows-3-7.jsonl");
  });

  it("evaluation: list, one subtask, recombine", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gpu-dag-simsplit-"));
    const task = new LMEvalTask({ projectName: "p", taskName: "t", modelId: "m", config: "tasks: [suite_a, suite_b]", splitSubtasks: true });
    const list = await run(evalListCommand(task, context).argv, join(dir, "list"));
    expect(list.code, list.stderr).toBe(0);
    const subtasks = JSON.parse(await readFile(list.manifest!["artifacts"][0].path, "utf8")) as string[];
    expect(subtasks).toEqual(["suite_a", "suite_b"]);
    const results: string[] = [];
    for (const [i, name] of subtasks.entries()) {
      const r = await run(evalSubtaskCommand(task, name, context).argv, join(dir, `s${i}`));
      expect(r.code, r.stderr).toBe(0);
      expect(Object.keys(r.manifest!["metrics"])).toEqual([`${name}/acc`]);
      results.push(r.manifest!["artifacts"][0].path);
    }
    const rec = await run(evalRecombineCommand(task, { results }, context).argv, join(dir, "rec"));
    expect(rec.code, rec.stderr).toBe(0);
    expect(rec.manifest!["metrics"]["eval/num_subtasks"]).toBe(2);
    expect(Object.keys(rec.manifest!["metrics"]).sort()).toEqual(["eval/num_subtasks", "suite_a/acc", "suite_b/acc"]);
  });
});

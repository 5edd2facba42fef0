/**
 * An lm-eval group split across jobs, for real on the tiny model: an `LMEvalTask` with
 * `splitSubtasks` rendered into its list, subtask and recombine jobs (`evalListCommand`,
 * `evalSubtaskCommand`, `evalRecombineCommand`), each run as its own process by invoking those
 * argv directly. The group is a user group in a local task YAML: a nested group (`tiny_suite`,
 * size-weighted), an inline task, a group-level `num_fewshot` its children inherit, and two
 * aggregated metrics, one weighted by size and one not. The recombined metrics must equal an
 * unsplit evaluation of the same model to 1e-9.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { evalListCommand, evalRecombineCommand, evalSplit, evalSubtaskCommand } from "../../src/tasks/lm-eval-split.js";
import { LMEvalTask } from "../../src/tasks/lm-eval-task.js";
import type { RenderContext } from "../../src/tasks/task-draft.js";
import { buildTinyFixture, type ProcessResult, pythonEnv, readManifest, runPython, type TinyFixture } from "./env.js";

const env = await pythonEnv();
const python = env.python;
const context: RenderContext = { runtime: "real", python, gpus: 0 };

function runJob(argv: string[], outputDir: string, timeoutMs = 600_000): Promise<ProcessResult> {
  return runPython(argv[0]!, argv.slice(1), { env: { GPU_DAG_OUTPUT_DIR: outputDir }, timeoutMs });
}

/** The user group: tiny_suite (tiny_arith 24 rows + tiny_words 16 rows, weighted by size) and an inline task. */
const NEST_YAML = (arithData: string) => `group: tiny_nest
task:
  - tiny_suite
  - task: tiny_arith_bare
    dataset_path: json
    dataset_kwargs:
      data_files:
        test: ${JSON.stringify(arithData)}
    test_split: test
    output_type: multiple_choice
    doc_to_text: "{{question}}"
    doc_to_choice: "{{choices}}"
    doc_to_target: "{{answer}}"
    metric_list:
      - metric: acc
      - metric: acc_norm
# Not a group field: passed down to every child task, as lm-eval builds groups.
num_fewshot: 1
aggregate_metric_list:
  - metric: acc
    aggregation: mean
    weight_by_size: false
  - metric: acc_norm
    aggregation: mean
    weight_by_size: true
metadata:
  version: 2.0
`;

describe("python tier: an lm-eval group split into its subtasks, recombined with lm-eval's aggregation", () => {
  let fixture: TinyFixture;
  let work: string;
  let task: LMEvalTask;
  let unsplit: Record<string, number>;
  let subtasks: string[];
  const subtaskDirs = new Map<string, string>();

  beforeAll(async () => {
    fixture = await buildTinyFixture(python);
    work = await mkdtemp(join(tmpdir(), "gpu-dag-evalsplit-"));
    const tasksDir = join(work, "tasks");
    await mkdir(tasksDir);
    for (const f of await readdir(fixture.tasks_dir)) if (f.endsWith(".yaml")) await copyFile(join(fixture.tasks_dir, f), join(tasksDir, f));
    await writeFile(join(tasksDir, "tiny_nest.yaml"), NEST_YAML(join(fixture.tasks_dir, "tiny_arith.jsonl")));
    // batch size 1: each request is scored alone in both runs, so no padding differs between them.
    task = new LMEvalTask({
      projectName: "tiny",
      taskName: "nest",
      modelId: fixture.model,
      config: "tasks: [tiny_nest]",
      includePath: tasksDir,
      backend: "hf",
      batchSize: 1,
      device: "cpu",
      splitSubtasks: true,
    });

    const full = await runJob(task.clone({ splitSubtasks: false }).render(context).argv, join(work, "unsplit"));
    expect(full.code, full.stderr.slice(-3000)).toBe(0);
    unsplit = (await readManifest(join(work, "unsplit"))).metrics;

    const list = await runJob(evalListCommand(task, context).argv, join(work, "list"));
    expect(list.code, list.stderr.slice(-3000)).toBe(0);
    const listed = (await readManifest(join(work, "list"))).artifacts.find((a) => a.name === evalSplit(task)!.listArtifact)!;
    subtasks = JSON.parse(await readFile(listed.path, "utf8")) as string[];
    // Two subtask jobs at a time on this small machine.
    for (let i = 0; i < subtasks.length; i += 2) {
      await Promise.all(
        subtasks.slice(i, i + 2).map(async (name, k) => {
          const dir = join(work, `sub-${i + k}`);
          const r = await runJob(evalSubtaskCommand(task, name, context).argv, dir);
          expect(r.code, r.stderr.slice(-3000)).toBe(0);
          subtaskDirs.set(name, dir);
        }),
      );
    }
  });

  /** The map's elements file, as the controller describes elements. */
  async function elementsFile(name: string, failed: string[] = []): Promise<string> {
    const entries = await Promise.all(
      subtasks.map(async (subtask, index) =>
        failed.includes(subtask)
          ? { index, key: `ev[${index}]`, label: `ev[${index}]`, item: subtask, status: "failed", reason: "exit code 1: CUDA out of memory" }
          : { index, key: `ev[${index}]`, label: `ev[${index}]`, item: subtask, status: "succeeded", outputs: await readManifest(subtaskDirs.get(subtask)!) },
      ),
    );
    const path = join(work, name);
    await writeFile(path, JSON.stringify(entries));
    return path;
  }

  it("lists the group's leaves: the nested group's tasks and the inline task, named as lm-eval names them", async () => {
    expect(subtasks).toEqual(["tiny_arith", "tiny_words", "tiny_nest::tiny_arith_bare"]);
    const manifest = await readManifest(join(work, "list"));
    expect(manifest.metrics).toEqual({ "eval/num_subtasks": 3 });
    const tree = JSON.parse(await readFile(manifest.artifacts.find((a) => a.name === "task_tree")!.path, "utf8")) as { groups: Record<string, { children: string[]; leaves: string[] }> };
    expect(tree.groups["tiny_nest"]!.children).toEqual(["tiny_suite", "tiny_nest::tiny_arith_bare"]);
    expect(tree.groups["tiny_suite"]!.leaves).toEqual(["tiny_arith", "tiny_words"]);
  });

  it("each subtask ran alone, as the group builds it (the group's num_fewshot), recording its n-samples", async () => {
    const sizes: Record<string, number> = { tiny_arith: 24, tiny_words: 16, "tiny_nest::tiny_arith_bare": 24 };
    for (const name of subtasks) {
      const dir = subtaskDirs.get(name)!;
      const results = JSON.parse(await readFile(join(dir, "lm_eval_results.json"), "utf8")) as Record<string, any>;
      expect(Object.keys(results["results"])).toEqual([name]);
      expect(results["n-shot"][name]).toBe(1);
      const metrics = (await readManifest(dir)).metrics;
      expect(metrics[`${name}/n_samples`]).toBe(sizes[name]);
      expect(metrics[`${name}/n_samples_original`]).toBe(sizes[name]);
      expect(typeof metrics[`${name}/acc`]).toBe("number");
      // The unsplit run scored the same subtask the same.
      expect(metrics[`${name}/acc`]).toBe(unsplit[`${name}/acc`]);
    }
  });

  it("the recombined group metrics equal the unsplit evaluation's, to 1e-9, under the same names", async () => {
    const dir = join(work, "recombined");
    const r = await runJob(evalRecombineCommand(task, { elements: await elementsFile("ev.elements.json") }, context).argv, dir);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const manifest = await readManifest(dir);
    expect(manifest.artifacts.map((a) => a.name)).toEqual(["results"]);
    const recombined = manifest.metrics;
    expect(recombined["eval/num_subtasks"]).toBe(3);
    const names = (m: Record<string, number>) =>
      Object.keys(m)
        .filter((k) => !k.startsWith("eval/"))
        .sort();
    expect(names(recombined)).toEqual(names(unsplit));
    for (const name of names(unsplit)) expect(Math.abs(recombined[name]! - unsplit[name]!), name).toBeLessThanOrEqual(1e-9);
    for (const name of ["tiny_suite/acc", "tiny_suite/acc_stderr", "tiny_nest/acc", "tiny_nest/acc_stderr", "tiny_nest/acc_norm", "tiny_nest/acc_norm_stderr"]) {
      expect(typeof recombined[name], name).toBe("number");
    }
    // As lm-eval defines it: tiny_suite weights its leaves by size; tiny_nest's acc is the plain
    // mean of its three leaves, its acc_norm the size-weighted one.
    const acc = (t: string) => recombined[`${t}/acc`]!;
    const norm = (t: string) => recombined[`${t}/acc_norm`]!;
    expect(acc("tiny_suite")).toBeCloseTo((24 * acc("tiny_arith") + 16 * acc("tiny_words")) / 40, 12);
    expect(acc("tiny_nest")).toBeCloseTo((acc("tiny_arith") + acc("tiny_words") + acc("tiny_nest::tiny_arith_bare")) / 3, 12);
    expect(norm("tiny_nest")).toBeCloseTo((24 * norm("tiny_arith") + 16 * norm("tiny_words") + 24 * norm("tiny_nest::tiny_arith_bare")) / 64, 12);
    // The results document has lm-eval's shape: group entries and the group's subtasks.
    const results = JSON.parse(await readFile(join(dir, "lm_eval_results.json"), "utf8")) as Record<string, any>;
    const unsplitResults = JSON.parse(await readFile(join(work, "unsplit", "lm_eval_results.json"), "utf8")) as Record<string, any>;
    expect(results["group_subtasks"]).toEqual(unsplitResults["group_subtasks"]);
    expect(results["n-samples"]).toEqual(unsplitResults["n-samples"]);
    expect(results["results"]["tiny_nest"]["sample_len"]).toBe(64);
  });

  it("a subtask without a result: exit 2 naming it and why its element has none", async () => {
    const r = await runJob(evalRecombineCommand(task, { elements: await elementsFile("gap.elements.json", ["tiny_words"]) }, context).argv, join(work, "gap"));
    expect(r.code).toBe(2);
    expect(r.lastLine).toBe("gpu-dag: cannot recombine tiny_nest: 1 of 3 subtasks have no result: tiny_words (ev[1] failed: exit code 1: CUDA out of memory)");
    const results = [...subtaskDirs.entries()].filter(([n]) => n !== "tiny_arith").map(([, d]) => join(d, "lm_eval_results.json"));
    const paths = await runJob(evalRecombineCommand(task, { results }, context).argv, join(work, "gap2"));
    expect(paths.code).toBe(2);
    expect(paths.lastLine).toBe("gpu-dag: cannot recombine tiny_nest: 1 of 3 subtasks have no result: tiny_arith");
  });

  it("lists the leaves of built-in groups (mmlu, leaderboard) with no hub access and no dataset", async () => {
    const big = new LMEvalTask({ projectName: "p", taskName: "t", modelId: "x", config: "tasks: [mmlu, leaderboard]", splitSubtasks: true });
    const dir = join(work, "list-big");
    const r = await runJob(evalListCommand(big, context).argv, dir);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const manifest = await readManifest(dir);
    const tree = JSON.parse(await readFile(manifest.artifacts.find((a) => a.name === "task_tree")!.path, "utf8")) as { subtasks: string[]; groups: Record<string, { leaves: string[] }> };
    expect(tree.groups["mmlu"]!.leaves).toHaveLength(57);
    expect(tree.groups["mmlu"]!.leaves.every((t) => t.startsWith("mmlu_"))).toBe(true);
    expect(Object.keys(tree.groups)).toEqual(expect.arrayContaining(["mmlu_stem", "mmlu_humanities", "leaderboard_bbh", "leaderboard_gpqa", "leaderboard_math_hard", "leaderboard_musr"]));
    expect(tree.groups["leaderboard"]!.leaves).toEqual(expect.arrayContaining(["leaderboard_ifeval", "leaderboard_mmlu_pro", "leaderboard_bbh_navigate"]));
    expect(manifest.metrics["eval/num_subtasks"]).toBe(tree.subtasks.length);
    expect(tree.subtasks.length).toBe(57 + tree.groups["leaderboard"]!.leaves.length);
  });
});

/**
 * What a run's path check asks and how the answer reads: the paths each step needs (from its
 * task options as overridden; a placeholder's field skipped; an input an ancestor may write not
 * required), and the one remote program, run here by bash on real files: missing, dangling,
 * not-a-directory, created, `~/` (unwritable and blocked directories: test/slurm/site-paths.test.ts,
 * as the cluster user).
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stepPaths } from "../../../../src/api/step-paths.js";
import { checkClusterPaths } from "../../../../src/backends/slurm/path-check.js";
import { GenerateTask, LMEvalTask, Pipeline, Task } from "../../../../src/index.js";
import type { TaskDraft } from "../../../../src/tasks/task-draft.js";

describe("stepPaths", () => {
  it("reads each step's paths from its options as overridden, skips placeholders, and does not require what an ancestor may write", async () => {
    const drafts = new Map<string, TaskDraft>([
      ["gen", new GenerateTask({ projectName: "p", taskName: "gen", modelId: "/models/llama", inputFile: "/data/in.jsonl", outputFile: "/scratch/run/out.jsonl" })],
      ["eval", new LMEvalTask({ projectName: "p", taskName: "eval", modelId: "x", modelFromStore: true, config: "openllm", includePath: "~/tasks" })],
      ["prep", new Task({ projectName: "p", taskName: "prep", command: ["true"] })],
    ]);
    const pipeline = new Pipeline({ projectName: "p", pipelineName: "paths" });
    pipeline.addStep({ name: "gen", baseTaskId: "gen", executionQueue: "q", parameterOverride: { modelId: "hub/model" } });
    pipeline.addStep({ name: "reread", baseTaskId: "gen", executionQueue: "q", parents: ["gen"], parameterOverride: { inputFile: "/scratch/run/out.jsonl", outputFile: "${gen.id}/x.jsonl" } });
    pipeline.addStep({ name: "eval", baseTaskId: "eval", executionQueue: "q" });
    pipeline.addStep({ name: "prep", baseTaskId: "prep", executionQueue: "q" });
    pipeline.addStep({ name: "after-prep", baseTaskId: "gen", executionQueue: "q", parents: ["prep"] });
    const plan = await pipeline.plan({ loadTask: async (id) => drafts.get(id)!, checkQueue: () => undefined });
    const byStep = Object.fromEntries(stepPaths(plan).map((s) => [s.step, s.paths.map((p) => `${p.kind} ${p.field} ${p.path}`)]));
    expect(byStep).toEqual({
      gen: ["input inputFile /data/in.jsonl", "output outputFile /scratch/run"],
      reread: ["input modelId /models/llama"],
      eval: ["input includePath ~/tasks"],
      prep: [],
      "after-prep": ["output outputFile /scratch/run"],
    });
  });
});

describe("the path check program (run by bash here)", () => {
  let dir: string;
  const run = (program: string) => {
    const stdout = execFileSync("bash", ["-s"], { input: program, encoding: "utf8", env: { ...process.env, HOME: dir } });
    return Promise.resolve({ stdout, stderr: "", code: 0 });
  };
  const config = { queues: {}, containers: {}, mounts: [] };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gd-path-check-"));
    await writeFile(join(dir, "model.bin"), "x");
    await symlink(join(dir, "gone"), join(dir, "dangling"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reports each problem with its step and field; `~/` is the cluster user's home", async () => {
    const steps = [
      {
        step: "a",
        queue: "q",
        paths: [
          { path: "~/model.bin", kind: "input" as const, field: "modelId" },
          { path: `${dir}/missing.jsonl`, kind: "input" as const, field: "inputFile" },
          { path: `${dir}/dangling`, kind: "input" as const, field: "dataset" },
          { path: `${dir}/model.bin`, kind: "output" as const, field: "outputFile" },
          { path: `${dir}/new/deep`, kind: "output" as const, field: "shardDir" },
        ],
      },
      { step: "b", queue: "q", paths: [{ path: `${dir}/missing.jsonl`, kind: "input" as const, field: "inputFile" }] },
    ];
    const problems = await checkClusterPaths(run, config, steps, `${dir}/jobs`);
    expect(problems).toEqual([
      { step: "a", field: "inputFile", message: `inputFile ${dir}/missing.jsonl does not exist on the cluster` },
      { step: "b", field: "inputFile", message: `inputFile ${dir}/missing.jsonl does not exist on the cluster` },
      { step: "a", field: "dataset", message: `dataset ${dir}/dangling is a symbolic link to nothing on the cluster` },
      { step: "a", field: "outputFile", message: `output directory (outputFile) ${dir}/model.bin exists on the cluster but is not a directory` },
    ]);
  });

  it("checkPaths: create makes output directories and the job dir; check leaves them; off asks nothing", async () => {
    const steps = [{ step: "a", queue: "q", paths: [{ path: `${dir}/made/here`, kind: "output" as const, field: "shardDir" }] }];
    expect(await checkClusterPaths(run, { ...config, checkPaths: "check" }, steps, `${dir}/jobs2`)).toEqual([]);
    expect(execFileSync("ls", [dir], { encoding: "utf8" })).not.toContain("made");
    expect(await checkClusterPaths(run, { ...config, checkPaths: "create" }, steps, `${dir}/jobs2`)).toEqual([]);
    expect(execFileSync("ls", [`${dir}/made`], { encoding: "utf8" }).trim()).toBe("here");
    let asked = 0;
    expect(await checkClusterPaths(() => Promise.resolve({ stdout: String(asked++), stderr: "", code: 0 }), { ...config, checkPaths: "off" }, steps, dir)).toEqual([]);
    expect(asked).toBe(0);
  });
});

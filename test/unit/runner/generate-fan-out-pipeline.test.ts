/**
 * A GenerateTask with `fanOut` in a pipeline (simulate runtime on the local backend): the step
 * becomes `<step>-chunks`, one job per (seed, chunk), and `<step>`, one merge per seed that waits
 * for its seed's chunks only, checks them and writes `output-rs{S}.jsonl`. A consumer reads the
 * merged file of a seed by its axis value.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import { replayJournal } from "../../../src/runner/replay.js";
import { Task } from "../../../src/tasks/custom-task.js";
import { GenerateTask } from "../../../src/tasks/generate-task.js";
import { localCluster, tempDir, tempStore } from "../helpers.js";

describe("GenerateTask fanOut in a pipeline", { timeout: 120_000 }, () => {
  it("2 seeds × 3 chunks: six element jobs, a merge per seed after its own chunks, the merged rows in order", async () => {
    const store = await tempStore();
    const dir = await tempDir();
    await writeFile(join(dir, "in.jsonl"), Array.from({ length: 10 }, (_, i) => `${JSON.stringify({ id: i, prompt: `q${i}` })}\n`).join(""));
    const generate = new GenerateTask({ projectName: "fan", taskName: "gen", modelId: "m", inputFile: join(dir, "in.jsonl"), numRandomSeeds: 2, numChunks: 3, fanOut: true });
    const count = new Task({
      projectName: "fan",
      taskName: "count",
      command: ["sh", "-c", 'echo "{\\"metrics\\":{\\"rows\\":$(wc -l < "$1")} }" > "$GPU_DAG_OUTPUT_DIR/outputs.json"', "job", "{file}"],
      parameters: { file: "" },
    });
    await generate.createTask({ store });
    await count.createTask({ store });
    const pipeline = new Pipeline({ projectName: "fan", pipelineName: "generate" })
      .addStep({ name: "generate", baseTaskId: generate.id!, executionQueue: "cpu" })
      .addStep({ name: "count", baseTaskId: count.id!, executionQueue: "cpu", parameterOverride: { file: "${generate[seed=1].artifacts.output-rs1.url}" } });
    const plan = await pipeline.plan({ loadTask: (id) => Promise.resolve(id === count.id ? count : generate), checkQueue: () => undefined });
    expect([...plan.steps.keys()].filter((n) => !n.includes("["))).toEqual(["generate-chunks", "generate", "count"]);
    expect(plan.steps.get("generate[1]")!.parents).toEqual(["generate-chunks[3]", "generate-chunks[4]", "generate-chunks[5]"]);
    expect(plan.steps.get("count")!.parents).toEqual(["generate[1]"]);

    const result = await pipeline.executeLocally({ store, home: store.home, cluster: localCluster(), runtime: "simulate", retryBackoffMs: 10 });
    expect(result.status, JSON.stringify(result.steps, null, 1).slice(0, 4000)).toBe("succeeded");
    expect(result.steps["generate-chunks"]!.elements).toMatchObject({ total: 6, succeeded: 6 });
    expect(result.metrics["generate[0]"]!["generation/num_rows"]).toBe(10);
    expect(result.metrics["count"]).toEqual({ rows: 10 });
    // Shards and merged files live in their jobs' attempt directories (outputs are what a job made).
    const merged = result.steps["generate[1]"]!.outputs!.artifacts.find((a) => a.name === "output-rs1")!;
    expect(merged.path.startsWith(result.steps["generate[1]"]!.attemptDir!)).toBe(true);
    const rows = (await readFile(merged.path, "utf8")).trim().split("\n");
    expect(rows.map((l) => (JSON.parse(l) as { id: number }).id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The run is recorded as planned: status and resume see the same steps.
    const journal = replayJournal(await store.readJournal(result.runId));
    expect(journal.steps.get("generate")).toMatchObject({ status: "succeeded", elements: { total: 2, succeeded: 2 } });
  });
});

/**
 * Maps whose items a parent produces (`map.itemsFrom`): the elements are made once the parent
 * succeeded, journaled, folded back like any map's; a resume makes the same elements and runs
 * only those that did not succeed; a list that is not one fails the map with its path.
 */
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRun } from "../../../src/api/create-run.js";
import { driveRun } from "../../../src/api/drive-run.js";
import { Pipeline } from "../../../src/api/pipeline.js";
import { formatDryRun, planDryRun } from "../../../src/cli/dry-run.js";
import { Task } from "../../../src/tasks/custom-task.js";
import { localCluster, tempDir, tempStore } from "../helpers.js";
import { markerLines } from "./durable/durable-helpers.js";

/** Writes `list.json` (its argv as the JSON list) and reports it as artifact `subtasks`. */
const lister = (json: string) =>
  new Task({
    projectName: "dyn",
    taskName: "list",
    command: ["sh", "-c", 'printf "%s" "$1" > list.json; echo "{\\"artifacts\\":[{\\"name\\":\\"subtasks\\",\\"path\\":\\"list.json\\"}]}" > "$GPU_DAG_OUTPUT_DIR/outputs.json"', "job", json],
  });

/** Appends to `<marks>/<name>`; fails when `<marks>/fail-<name>` exists; metric len = name's length. */
function subtaskTask(marks: string): Task {
  return new Task({
    projectName: "dyn",
    taskName: "subtask",
    command: ["sh", "-c", 'echo x >> "$1/$2"; test ! -f "$1/fail-$2" || exit 4; len=${#2}; echo "{\\"metrics\\":{\\"len\\":$len} }" > "$GPU_DAG_OUTPUT_DIR/outputs.json"', "job", "{marks}", "{name}"],
    parameters: { marks, name: "" },
  });
}

const summer = new Task({
  projectName: "dyn",
  taskName: "sum",
  command: ["sh", "-c", 't=0; for n in "$@"; do t=$((t + n)); done; echo "{\\"metrics\\":{\\"total\\":$t,\\"n\\":$#} }" > "$GPU_DAG_OUTPUT_DIR/outputs.json"', "job", "{lens}"],
  parameters: { lens: [] },
});

async function setup(json: string) {
  const store = await tempStore();
  const marks = await tempDir();
  const list = lister(json);
  const sub = subtaskTask(marks);
  await list.createTask({ store });
  await sub.createTask({ store });
  await summer.createTask({ store });
  const pipeline = new Pipeline({ projectName: "dyn", pipelineName: "split" })
    .addStep({ name: "list", baseTaskId: list.id!, executionQueue: "cpu" })
    .addStep({ name: "eval", baseTaskId: sub.id!, executionQueue: "cpu", map: { itemsFrom: "${list.artifacts.subtasks.url}", maxParallel: 2 }, parameterOverride: { name: "${item}" } })
    .addStep({ name: "sum", baseTaskId: summer.id!, executionQueue: "cpu", parameterOverride: { lens: "${eval[*].metrics.len}" } });
  return { store, marks, pipeline };
}

describe("map.itemsFrom", { timeout: 60_000 }, () => {
  it("makes one element per listed item once the lister ran; the reducer folds them back; the dry run says when", async () => {
    const { store, marks, pipeline } = await setup('["ab", "cde", "f"]');
    const dry = await planDryRun(pipeline, { store, home: store.home, cluster: localCluster() });
    expect(formatDryRun(dry)).toContain("map eval: one element per item of ${list.artifacts.subtasks.url}, made once that step has run, at most 2 at once");
    const result = await pipeline.executeLocally({ store, home: store.home, cluster: localCluster(), retryBackoffMs: 10 });
    expect(result.status, JSON.stringify(result.steps)).toBe("succeeded");
    expect(result.steps["eval"]!.elements).toEqual({ total: 3, required: 3, succeeded: 3, missing: [] });
    expect(result.metrics["sum"]).toEqual({ total: 6, n: 3 });
    for (const name of ["ab", "cde", "f"]) expect(await markerLines(marks, name)).toHaveLength(1);
    const entries = await store.readJournal(result.runId);
    expect(entries.filter((e) => e.type === "map-expanded")).toMatchObject([{ step: "eval", items: ["ab", "cde", "f"] }]);
  });

  it("a resume makes the same elements from the journal and runs only the failed one", async () => {
    const { store, marks, pipeline } = await setup('["ab", "cde", "f"]');
    await writeFile(join(marks, "fail-cde"), "");
    const { runId } = await createRun(pipeline, { store, cluster: localCluster() });
    const first = await driveRun(runId, { store, retryBackoffMs: 10 });
    expect(first.status).toBe("failed");
    expect(first.steps["eval"]!.reason).toContain("eval[1] failed");
    expect(first.steps["sum"]!.status).toBe("skipped");
    await rm(join(marks, "fail-cde"));
    const second = await driveRun(runId, { store, resume: true, retryBackoffMs: 10 });
    expect(second.status).toBe("succeeded");
    expect(second.metrics["sum"]).toEqual({ total: 6, n: 3 });
    expect(await markerLines(marks, "ab")).toHaveLength(1);
    expect(await markerLines(marks, "cde")).toHaveLength(2);
    expect(await markerLines(marks, "list")).toHaveLength(0);
    expect((await store.readJournal(runId)).filter((e) => e.type === "map-expanded")).toHaveLength(1);
  });

  it("a list that is not a list of scalars fails the map, naming the placeholder and the path", async () => {
    const { store, pipeline } = await setup('{"not": "a list"}');
    const result = await pipeline.executeLocally({ store, home: store.home, cluster: localCluster(), retryBackoffMs: 10 });
    expect(result.status).toBe("failed");
    expect(result.steps["eval"]!.reason).toMatch(/^its items could not be made: \$\{list\.artifacts\.subtasks\.url\} \(.*list\.json\) is not a list/);
    expect(result.steps["sum"]!.status).toBe("skipped");
  });

  it("validation: itemsFrom must be one artifact placeholder of another step; only [*] reaches its elements", async () => {
    const { store, pipeline } = await setup("[]");
    pipeline.addStep({ name: "bad", baseTaskId: summer.id!, executionQueue: "cpu", map: { itemsFrom: "${lst.artifacts.subtasks.url}" } });
    pipeline.addStep({ name: "pick", baseTaskId: summer.id!, executionQueue: "cpu", parameterOverride: { lens: "${eval[0].metrics.len}" } });
    const error = await createRun(pipeline, { store, cluster: localCluster() }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain('step "bad", map.itemsFrom: "${lst.artifacts.subtasks.url}" refers to unknown step "lst" (did you mean "list"?)');
    expect(error?.message).toContain('the elements of "eval" are made at run time (itemsFrom): only [*] can refer to them');
  });
});

/**
 * Map steps on the real local backend: a step run once per element of its axes, each element a
 * step of its own (attempts, logs, journal entries, job-side markers), caps, minSuccess with gaps
 * a reducer sees, re-running only the failed elements, element-wise chains, and validation.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRun } from "../../../src/api/create-run.js";
import { driveRun } from "../../../src/api/drive-run.js";
import { Pipeline } from "../../../src/api/pipeline.js";
import { range } from "../../../src/pipeline/map-spec.js";
import { replayJournal } from "../../../src/runner/replay.js";
import { Task } from "../../../src/tasks/custom-task.js";
import { LMEvalTask } from "../../../src/tasks/lm-eval-task.js";
import { localCluster, tempDir, tempStore } from "../helpers.js";
import { markerLines } from "./durable/durable-helpers.js";

/**
 * An element job: appends a line to `<marks>/<seed>-<chunk>` (how often it really ran), records
 * its start/end (ns) and GPUs, fails with 5 when `<marks>/fail-<seed>-<chunk>` exists, and
 * reports `score = seed * 100 + chunk`. No `}}`: custom-task commands read it as a literal `}`.
 */
const ELEMENT = `
marks=$1; seed=$2; chunk=$3; secs=$4
echo "$GPU_DAG_ATTEMPT" >> "$marks/$seed-$chunk"
start=$(date +%s%N)
if [ -f "$marks/fail-$seed-$chunk" ]; then echo "told to fail" >&2; exit 5; fi
sleep "$secs"
echo "$start $(date +%s%N) $CUDA_VISIBLE_DEVICES" > "$marks/time-$seed-$chunk"
printf '{"metrics":{"score":%d} }' $((seed * 100 + chunk)) > "$GPU_DAG_OUTPUT_DIR/outputs.json"
`;

function elementTask(marks: string): Task {
  return new Task({
    projectName: "maps",
    taskName: "element",
    command: ["sh", "-c", ELEMENT, "job", "{marks}", "{seed}", "{chunk}", "{secs}"],
    parameters: { marks, seed: 0, chunk: 0, secs: 0 },
  });
}

/** A reducer: writes its argv (the list) and the collection file it was given to `reduce.json`. */
function reducerTask(): Task {
  return new Task({
    projectName: "maps",
    taskName: "reduce",
    command: [
      "sh",
      "-c",
      'printf "%s\\n" "$@" > "$GPU_DAG_OUTPUT_DIR/scores.txt"; cp "$1" "$GPU_DAG_OUTPUT_DIR/elements.json"; echo "{\\"metrics\\":{\\"n\\":$(($# - 1))} }" > "$GPU_DAG_OUTPUT_DIR/outputs.json"',
      "job",
      "{elements}",
      "{scores}",
    ],
    parameters: { elements: "", scores: [] },
  });
}

/** Most jobs whose [start, end] intervals overlap at one instant. */
function maxOverlap(intervals: ReadonlyArray<readonly [bigint, bigint]>): number {
  const points = intervals.flatMap(([s, e]) => [[s, 1] as const, [e, -1] as const]).sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1));
  let now = 0;
  let most = 0;
  for (const [, d] of points) {
    now += d;
    most = Math.max(most, now);
  }
  return most;
}

async function intervals(marks: string, seeds: number, chunks: number): Promise<Array<[bigint, bigint, string]>> {
  const out: Array<[bigint, bigint, string]> = [];
  for (let s = 0; s < seeds; s++) {
    for (let c = 0; c < chunks; c++) {
      const [start, end, devices] = (await readFile(join(marks, `time-${s}-${c}`), "utf8")).trim().split(" ");
      out.push([BigInt(start!), BigInt(end!), devices ?? ""]);
    }
  }
  return out;
}

describe("map steps on the local backend", { timeout: 120_000 }, () => {
  it("a 64-element map on 8 fake GPUs: every element once, on its own GPU, never more than 8 at a time", async () => {
    const store = await tempStore();
    const marks = await tempDir();
    const element = elementTask(marks);
    await element.createTask({ store });
    const pipeline = new Pipeline({ projectName: "maps", pipelineName: "wide" }).addStep({
      name: "gen",
      baseTaskId: element.id!,
      executionQueue: "gpu",
      map: { axes: { seed: range(8), chunk: range(8) } },
      parameterOverride: { seed: "${item.seed}", chunk: "${item.chunk}", secs: 0.2 },
    });
    const cluster = localCluster({ gpus: 8, queues: { gpu: { gpus: 1 } } });
    const result = await pipeline.executeLocally({ store, home: store.home, cluster, retryBackoffMs: 10 });
    expect(result.status, JSON.stringify(result.steps["gen"])).toBe("succeeded");
    expect(result.steps["gen"]!.elements).toEqual({ total: 64, required: 64, succeeded: 64, missing: [] });
    for (let s = 0; s < 8; s++) for (let c = 0; c < 8; c++) expect(await markerLines(marks, `${s}-${c}`), `${s}-${c}`).toEqual(["1"]);
    const runs = await intervals(marks, 8, 8);
    expect(maxOverlap(runs.map(([a, b]) => [a, b]))).toBeLessThanOrEqual(8);
    expect(new Set(runs.map(([, , d]) => d))).toEqual(new Set(["0", "1", "2", "3", "4", "5", "6", "7"]));
    // Element 13 is seed 1, chunk 5 (last axis fastest), and its job ran with those values.
    expect(result.steps["gen[13]"]!.outputs!.metrics).toEqual({ score: 105 });
    const journal = replayJournal(await store.readJournal(result.runId));
    expect(journal.steps.get("gen")).toMatchObject({ status: "succeeded", elements: { total: 64, succeeded: 64, missing: [] } });
    expect(journal.steps.get("gen[13]")!.attempts).toHaveLength(1);
  });

  it("maxParallel caps the elements running at once", async () => {
    const store = await tempStore();
    const marks = await tempDir();
    const element = elementTask(marks);
    await element.createTask({ store });
    const pipeline = new Pipeline({ projectName: "maps", pipelineName: "capped" }).addStep({
      name: "gen",
      baseTaskId: element.id!,
      executionQueue: "cpu",
      map: { axes: { seed: [0, 1, 2], chunk: [0, 1, 2] }, maxParallel: 2 },
      parameterOverride: { seed: "${item.seed}", chunk: "${item.chunk}", secs: 0.3 },
    });
    const result = await pipeline.executeLocally({ store, home: store.home, cluster: localCluster(), retryBackoffMs: 10 });
    expect(result.status).toBe("succeeded");
    const overlap = maxOverlap((await intervals(marks, 3, 3)).map(([a, b]) => [a, b]));
    expect(overlap).toBeLessThanOrEqual(2);
    expect(overlap).toBe(2); // the cap is used, not just respected
  });

  it("a queue's maxParallel caps its jobs across the run, map elements and plain steps alike", async () => {
    const store = await tempStore();
    const marks = await tempDir();
    const element = elementTask(marks);
    await element.createTask({ store });
    const pipeline = new Pipeline({ projectName: "maps", pipelineName: "queue-cap" })
      .addStep({
        name: "gen",
        baseTaskId: element.id!,
        executionQueue: "narrow",
        map: { axes: { seed: [0, 1], chunk: [0, 1, 2] } },
        parameterOverride: { seed: "${item.seed}", chunk: "${item.chunk}", secs: 0.3 },
      })
      .addStep({ name: "solo", baseTaskId: element.id!, executionQueue: "narrow", parameterOverride: { seed: 9, chunk: 0, secs: 0.3 } });
    const cluster = localCluster({ queues: { narrow: { gpus: 0, maxParallel: 3 } } });
    const result = await pipeline.executeLocally({ store, home: store.home, cluster, retryBackoffMs: 10 });
    expect(result.status).toBe("succeeded");
    const all = [...(await intervals(marks, 2, 3)), ...(await readFile(join(marks, "time-9-0"), "utf8").then((t) => [t.trim().split(" ")]))].map(([a, b]) => [BigInt(a!), BigInt(b!)] as const);
    expect(maxOverlap(all)).toBe(3);
  });

  it("minSuccess 0.9 with 3 failed elements: the map succeeds, the reducer sees the gaps; re-running fills them and leaves the rest alone", async () => {
    const store = await tempStore();
    const marks = await tempDir();
    const element = elementTask(marks);
    const reducer = reducerTask();
    await element.createTask({ store });
    await reducer.createTask({ store });
    for (const f of ["0-3", "2-7", "3-9"]) await writeFile(join(marks, `fail-${f}`), "");
    const pipeline = new Pipeline({ projectName: "maps", pipelineName: "gaps" })
      .addStep({
        name: "gen",
        baseTaskId: element.id!,
        executionQueue: "cpu",
        map: { axes: { seed: range(4), chunk: range(10) }, minSuccess: 0.9 },
        parameterOverride: { seed: "${item.seed}", chunk: "${item.chunk}" },
      })
      .addStep({ name: "reduce", baseTaskId: reducer.id!, executionQueue: "cpu", parameterOverride: { elements: "${gen[*].elements}", scores: "${gen[*].metrics.score}" } });
    const { runId } = await createRun(pipeline, { store, cluster: localCluster() });
    const first = await driveRun(runId, { store, retryBackoffMs: 10 });
    expect(first.status, JSON.stringify(first.steps["gen"])).toBe("succeeded");
    expect(first.steps["gen"]!.elements).toEqual({ total: 40, required: 36, succeeded: 37, missing: ["gen[3]", "gen[27]", "gen[39]"] });
    expect(first.steps["gen"]!.reason).toContain("gen[seed=0,chunk=3] failed");
    expect(first.steps["gen[3]"]!.status).toBe("failed");
    const collection = JSON.parse(await readFile(join(first.steps["reduce"]!.attemptDir!, "elements.json"), "utf8")) as {
      total: number;
      missing: number;
      elements: Array<{ step: string; status: string; missing?: true; outputs?: unknown; item: unknown }>;
    };
    expect(collection).toMatchObject({ total: 40, missing: 3, succeeded: 37 });
    expect(collection.elements.filter((e) => e.missing).map((e) => [e.step, e.status, e.item])).toEqual([
      ["gen[3]", "failed", { seed: 0, chunk: 3 }],
      ["gen[27]", "failed", { seed: 2, chunk: 7 }],
      ["gen[39]", "failed", { seed: 3, chunk: 9 }],
    ]);
    const scores = (await readFile(join(first.steps["reduce"]!.attemptDir!, "scores.txt"), "utf8")).trim().split("\n").slice(1);
    expect(scores).toHaveLength(37);
    expect(scores).not.toContain("3");
    expect(first.metrics["reduce"]).toEqual({ n: 37 });

    // The cause is fixed; resuming runs the 3 failed elements again, and only them.
    for (const f of ["0-3", "2-7", "3-9"]) await writeFile(join(marks, `fail-${f}`), "").then(() => import("node:fs/promises").then((fs) => fs.rm(join(marks, `fail-${f}`))));
    const second = await driveRun(runId, { store, resume: true, retryBackoffMs: 10 });
    expect(second.status).toBe("succeeded");
    expect(second.steps["gen"]!.elements).toEqual({ total: 40, required: 36, succeeded: 40, missing: [] });
    for (let s = 0; s < 4; s++) {
      for (let c = 0; c < 10; c++) {
        const failedBefore = ["0-3", "2-7", "3-9"].includes(`${s}-${c}`);
        expect(await markerLines(marks, `${s}-${c}`), `${s}-${c}`).toEqual(failedBefore ? ["1", "2"] : ["1"]);
      }
    }
    expect(second.metrics["reduce"]).toEqual({ n: 40 });
    const refilled = JSON.parse(await readFile(join(second.steps["reduce"]!.attemptDir!, "elements.json"), "utf8")) as { missing: number; elements: unknown[] };
    expect(refilled.missing).toBe(0);
    expect(refilled.elements).toHaveLength(40); // recomputed, never appended to
  });

  it("a map failing minSuccess fails the run and skips what consumes it; a reducer's map parent waits for every element", async () => {
    const store = await tempStore();
    const marks = await tempDir();
    const element = elementTask(marks);
    const reducer = reducerTask();
    await element.createTask({ store });
    await reducer.createTask({ store });
    for (const f of ["0-0", "0-1"]) await writeFile(join(marks, `fail-${f}`), "");
    const pipeline = new Pipeline({ projectName: "maps", pipelineName: "short" })
      .addStep({
        name: "gen",
        baseTaskId: element.id!,
        executionQueue: "cpu",
        map: { axes: { seed: [0], chunk: range(4) }, minSuccess: 3 },
        parameterOverride: { seed: "${item.seed}", chunk: "${item.chunk}" },
      })
      .addStep({ name: "reduce", baseTaskId: reducer.id!, executionQueue: "cpu", parameterOverride: { elements: "${gen[*].elements}", scores: "${gen[*].metrics.score}" } });
    const result = await pipeline.executeLocally({ store, home: store.home, cluster: localCluster(), retryBackoffMs: 10 });
    expect(result.status).toBe("failed");
    expect(result.steps["gen"]!.status).toBe("failed");
    expect(result.steps["gen"]!.reason).toMatch(/^2 of 4 elements succeeded, 3 needed: gen\[seed=0,chunk=0\] failed/);
    expect(result.steps["reduce"]!.status).toBe("skipped");
    expect(result.steps["gen[2]"]!.status).toBe("succeeded");
  });

  it("element-wise chains: eval[seed=s,chunk=c] waits for gen's matching element only and reads its value", async () => {
    const store = await tempStore();
    const marks = await tempDir();
    const element = elementTask(marks);
    const echo = new Task({
      projectName: "maps",
      taskName: "echo",
      command: ["sh", "-c", 'echo "{\\"metrics\\":{\\"got\\":$1} }" > "$GPU_DAG_OUTPUT_DIR/outputs.json"', "job", "{v}"],
      parameters: { v: 0 },
    });
    await element.createTask({ store });
    await echo.createTask({ store });
    const pipeline = new Pipeline({ projectName: "maps", pipelineName: "chain" })
      .addStep({ name: "gen", baseTaskId: element.id!, executionQueue: "cpu", map: { axes: { seed: [0, 1], chunk: [0, 1, 2] } }, parameterOverride: { seed: "${item.seed}", chunk: "${item.chunk}" } })
      .addStep({ name: "score", baseTaskId: echo.id!, executionQueue: "cpu", map: { axes: { seed: [0, 1], chunk: [0, 1, 2] } }, parameterOverride: { v: "${gen[item].metrics.score}" } })
      .addStep({ name: "pick", baseTaskId: echo.id!, executionQueue: "cpu", parameterOverride: { v: "${score[seed=1,chunk=2].metrics.got}" } });
    const plan = await pipeline.plan({ loadTask: (id) => store.getTask(id).then((r) => (r.id === echo.id ? echo : element)), checkQueue: () => undefined });
    expect(plan.steps.get("score[4]")!.parents).toEqual(["gen[4]"]);
    expect(plan.steps.get("pick")!.parents).toEqual(["score[5]"]);
    expect(plan.steps.get("score")!.parents).toEqual(["score[0]", "score[1]", "score[2]", "score[3]", "score[4]", "score[5]"]);
    const result = await pipeline.executeLocally({ store, home: store.home, cluster: localCluster(), retryBackoffMs: 10 });
    expect(result.status, JSON.stringify(result.steps, null, 1)).toBe("succeeded");
    expect(result.metrics["score[4]"]).toEqual({ got: 101 });
    expect(result.metrics["pick"]).toEqual({ got: 102 });
  });
});

describe("per-seed merges", { timeout: 60_000 }, () => {
  it("a map over seeds reads its own seed's chunks: ${gen[item].elements} lists them, and each merge waits for them only", async () => {
    const store = await tempStore();
    const marks = await tempDir();
    const element = elementTask(marks);
    const reducer = reducerTask();
    await element.createTask({ store });
    await reducer.createTask({ store });
    const pipeline = new Pipeline({ projectName: "maps", pipelineName: "merge" })
      .addStep({ name: "gen", baseTaskId: element.id!, executionQueue: "cpu", map: { axes: { seed: [0, 1], chunk: [0, 1, 2] } }, parameterOverride: { seed: "${item.seed}", chunk: "${item.chunk}" } })
      .addStep({
        name: "merge",
        baseTaskId: reducer.id!,
        executionQueue: "cpu",
        map: { axes: { seed: [0, 1] } },
        parameterOverride: { elements: "${gen[item].elements}", scores: "${gen[item].metrics.score}" },
      });
    const plan = await pipeline.plan({ loadTask: (id) => Promise.resolve(id === reducer.id ? reducer : element), checkQueue: () => undefined });
    expect(plan.steps.get("merge[1]")!.parents).toEqual(["gen[3]", "gen[4]", "gen[5]"]);
    const result = await pipeline.executeLocally({ store, home: store.home, cluster: localCluster(), retryBackoffMs: 10 });
    expect(result.status).toBe("succeeded");
    const merged = JSON.parse(await readFile(join(result.steps["merge[1]"]!.attemptDir!, "elements.json"), "utf8")) as { total: number; elements: Array<{ item: unknown }> };
    expect(merged.total).toBe(3);
    expect(merged.elements.map((e) => e.item)).toEqual([
      { seed: 1, chunk: 0 },
      { seed: 1, chunk: 1 },
      { seed: 1, chunk: 2 },
    ]);
    const scores = (await readFile(join(result.steps["merge[1]"]!.attemptDir!, "scores.txt"), "utf8")).trim().split("\n").slice(1);
    expect(scores).toEqual(["100", "101", "102"]);
  });
});

describe("map step validation", () => {
  it("names the step, field and value of every mistake, before anything runs", async () => {
    const store = await tempStore();
    const marks = await tempDir();
    const element = elementTask(marks);
    await element.createTask({ store });
    const pipeline = new Pipeline({ projectName: "maps", pipelineName: "bad" })
      .addStep({ name: "gen", baseTaskId: element.id!, executionQueue: "cpu", map: { axes: { seed: [0, 1], chunk: [0] } }, parameterOverride: { seed: "${item.sed}" } })
      .addStep({ name: "whole", baseTaskId: element.id!, executionQueue: "cpu", parameterOverride: { seed: "${gen.metrics.score}" } })
      .addStep({ name: "none", baseTaskId: element.id!, executionQueue: "cpu", parameterOverride: { seed: "${gen[seed=7,chunk=0].metrics.score}" } })
      .addStep({ name: "outside", baseTaskId: element.id!, executionQueue: "cpu", parameterOverride: { seed: "${item.seed}" } })
      .addStep({ name: "tight", baseTaskId: element.id!, executionQueue: "cpu", map: { items: [1, 2], minSuccess: 3 }, parameterOverride: { chunk: "${item}" } });
    const error = await createRun(pipeline, { store, cluster: localCluster() }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    const message = error?.message ?? "";
    expect(message).toContain('step "gen", parameterOverride.seed: placeholder "${item.sed}": map of "gen" has no axis "sed" (did you mean "seed"?)');
    expect(message).toContain('"gen" is a map step (2 elements): write ${gen[*].metrics.score} for every element');
    expect(message).toContain('placeholder "${gen[seed=7,chunk=0].metrics.score}": no element of "gen" has these values');
    expect(message).toContain('step "outside", parameterOverride.seed: placeholder "${item.seed}": ${item…} is for map steps');
    expect(message).toContain('step "tight", map.minSuccess: 3 is more than the map\'s 2 elements');
    expect(await store.listRuns()).toEqual([]);
  });

  it("refuses an element value the task cannot take, naming the element", async () => {
    const store = await tempStore();
    const evaluate = new LMEvalTask({ projectName: "maps", taskName: "eval", modelId: "m", config: "openllm" });
    await evaluate.createTask({ store });
    const pipeline = new Pipeline({ projectName: "maps", pipelineName: "typed" }).addStep({
      name: "sweep",
      baseTaskId: evaluate.id!,
      executionQueue: "cpu",
      map: { items: [{ shots: 0 }, { shots: "many" }] },
      parameterOverride: { numFewshot: "${item.shots}" },
    });
    const error = await createRun(pipeline, { store, cluster: localCluster() }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/step "sweep", map: element sweep\[shots=many\]: .*numFewshot/);
  });
});

describe("typed builders for map references", () => {
  it("build the placeholder text the parser reads", async () => {
    const { step } = await import("../../../src/pipeline/refs.js");
    const { parseTemplate } = await import("../../../src/pipeline/placeholders.js");
    expect(step("gen").all.metric("score")).toBe("${gen[*].metrics.score}");
    expect(step("gen").all.elements).toBe("${gen[*].elements}");
    expect(step("gen").item.model(-1).url).toBe("${gen[item].models.output.-1.url}");
    expect(step("gen").at({ seed: 0, chunk: 1 }).artifact("out").url).toBe("${gen[seed=0,chunk=1].artifacts.out.url}");
    expect(step("gen").at(3).parameter("seed")).toBe("${gen[3].parameters.seed}");
    expect(parseTemplate(step("gen").at({ seed: 0 }).metric("x"))).toEqual([
      { raw: "${gen[seed=0].metrics.x}", offset: 0, ref: { kind: "metric", step: "gen", select: { kind: "values", values: { seed: "0" } }, name: "x" } },
    ]);
  });
});

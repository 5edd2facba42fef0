/**
 * Step policies with exact expected step states, on the real runner, file store and local backend:
 * retries and backoff, step and run time limits, continue / skip / abort on failure, hooks,
 * caching and force, and resume re-running failed and skipped steps only.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { driveRun } from "../../../../src/api/drive-run.js";
import { type ExecuteOptions, Pipeline } from "../../../../src/api/pipeline.js";
import type { RunEvent, RunResult, StepStatus } from "../../../../src/runner/run-types.js";
import type { StepHookContext } from "../../../../src/runner/step-hooks.js";
import type { FileStore } from "../../../../src/store/file-store.js";
import type { StepOutputs } from "../../../../src/store/records.js";
import { Task } from "../../../../src/tasks/custom-task.js";
import { isAlive, localCluster, tempDir, tempStore } from "../../helpers.js";
import { entriesOf, finishedAttempts, markerLines, markerTask } from "./durable-helpers.js";

/** A test's world: a temp store, a marker directory, and drafts stored in it. */
async function world() {
  const store = await tempStore();
  const markers = await tempDir("gpu-dag-markers-");
  const marker = markerTask(markers);
  await marker.createTask({ store });
  /** A draft running `sh -c script` that first appends to its marker file like the marker task. */
  const sh = async (name: string, script: string): Promise<string> => {
    const task = new Task({
      projectName: "durable",
      taskName: name,
      command: ["sh", "-c", `echo "$GPU_DAG_ATTEMPT $$" >> "$1/$2"; ${script}`, "job", "{markers}", "{step}"],
      parameters: { markers, step: name },
    });
    return task.createTask({ store });
  };
  return { store, markers, markerId: marker.id!, sh };
}

function run(pipeline: Pipeline, store: FileStore, options: ExecuteOptions = {}): Promise<RunResult> {
  return pipeline.executeLocally({ store, cluster: localCluster(), retryBackoffMs: 20, ...options });
}

function statuses(result: RunResult): Record<string, StepStatus> {
  return Object.fromEntries(Object.entries(result.steps).map(([name, s]) => [name, s.status]));
}

function newPipeline(name: string): Pipeline {
  return new Pipeline({ projectName: "durable", pipelineName: name, defaults: { executionQueue: "cpu" } });
}

/** A step of the marker task: `secs` of sleep, writes `result.txt` and a manifest. */
function markerStep(pipeline: Pipeline, markerId: string, name: string, parents: string[] = [], extra: Record<string, unknown> = {}): Pipeline {
  return pipeline.addStep({ name, baseTaskId: markerId, parents, parameterOverride: { step: name, secs: 0 }, ...extra });
}

describe("retryOnFailure", () => {
  // Fails on its first two runs, succeeds on the third (a counter file next to the markers).
  const flaky = 'n=$(cat "$1/$2.count" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > "$1/$2.count"; [ "$n" -ge 3 ] || { echo "failure $n" >&2; exit 5; }';

  it("retryOnFailure 2: fails twice, succeeds on attempt 3; backoff delays grow; status changes in order", async () => {
    const { store, markers, sh } = await world();
    const p = newPipeline("retry-2").addStep({ name: "flaky", baseTaskId: await sh("flaky", flaky), retryOnFailure: 2 });
    const changes: Array<[StepStatus, StepStatus]> = [];
    const events: RunEvent[] = [];
    // Jitter pinned near its top (factor 0.995), so the two delays are ≈ 199 and ≈ 398 ms and
    // their order does not hinge on a lucky draw.
    const random = vi.spyOn(Math, "random").mockReturnValue(0.99);
    const result = await run(p, store, {
      retryBackoffMs: 200,
      hooks: { flaky: { onStatusChange: (_step, status, previous) => changes.push([previous, status]) } },
      onEvent: (e) => events.push(e),
    }).finally(() => random.mockRestore());
    expect(result.status).toBe("succeeded");
    expect(result.steps["flaky"]).toMatchObject({ status: "succeeded", attempts: 3, exitCode: 0 });
    expect(await markerLines(markers, "flaky")).toHaveLength(3);

    const finished = await finishedAttempts(store, result.runId, "flaky");
    expect(finished.map((e) => [e.attempt, e.status, e.exitCode])).toEqual([
      [1, "failed", 5],
      [2, "failed", 5],
      [3, "succeeded", 0],
    ]);
    expect(finished[0]!.reason).toContain("failure 1");
    const failures = events.filter((e) => e.type === "step:failure");
    expect(failures.map((e) => e.type === "step:failure" && e.willRetry)).toEqual([true, true]);

    // Journal delays between a failure and the next attempt: base × 2^(n-1) × jitter.
    const entries = await store.readJournal(result.runId);
    const planned = entriesOf(entries, "attempt-planned");
    const gap = (n: number) => planned.find((e) => e.attempt === n + 1)!.at - finished.find((e) => e.attempt === n)!.at;
    expect(gap(1)).toBeGreaterThanOrEqual(199 - 2);
    expect(gap(2)).toBeGreaterThanOrEqual(398 - 2);
    expect(gap(2)).toBeGreaterThan(gap(1));
    expect(gap(2)).toBeLessThan(5_000);

    expect(changes).toEqual([
      ["pending", "queued"],
      ["queued", "running"],
      ["running", "queued"],
      ["queued", "running"],
      ["running", "queued"],
      ["queued", "running"],
      ["running", "succeeded"],
    ]);
  });

  it("retryOnFailure 1: the same job fails for good after 2 attempts; its child is skipped", async () => {
    const { store, markers, sh, markerId } = await world();
    const p = newPipeline("retry-1").addStep({ name: "flaky", baseTaskId: await sh("flaky", flaky), retryOnFailure: 1 });
    markerStep(p, markerId, "child", ["flaky"]);
    const result = await run(p, store);
    expect(result.status).toBe("failed");
    expect(result.steps["flaky"]).toMatchObject({ status: "failed", attempts: 2, exitCode: 5, infrastructure: false });
    expect(result.steps["child"]).toMatchObject({ status: "skipped", attempts: 0, reason: 'parent "flaky" failed' });
    expect((await finishedAttempts(store, result.runId, "flaky")).map((e) => e.status)).toEqual(["failed", "failed"]);
    expect(await markerLines(markers, "flaky")).toHaveLength(2);
    expect(await markerLines(markers, "child")).toHaveLength(0);
  });

  it("pipeline defaults apply retryOnFailure to every step; a step may override it", async () => {
    const { store, sh } = await world();
    const p = new Pipeline({ projectName: "durable", pipelineName: "defaults", defaults: { executionQueue: "cpu", retryOnFailure: 2 } });
    p.addStep({ name: "flaky", baseTaskId: await sh("flaky", flaky) });
    p.addStep({ name: "strict", baseTaskId: await sh("strict", "exit 1"), retryOnFailure: 0 });
    const result = await run(p, store);
    expect(statuses(result)).toEqual({ flaky: "succeeded", strict: "failed" });
    expect(result.steps["flaky"]!.attempts).toBe(3);
    expect(result.steps["strict"]!.attempts).toBe(1);
  });
});

describe("time limits", () => {
  it("step timeLimit: a sleeping step is killed and fails with the time-limit reason; its children are skipped", async () => {
    const { store, markers, sh, markerId } = await world();
    const p = newPipeline("step-limit").addStep({ name: "slow", baseTaskId: await sh("slow", "sleep 30"), timeLimit: "1s" });
    markerStep(p, markerId, "child", ["slow"]);
    markerStep(p, markerId, "grandchild", ["child"]);
    markerStep(p, markerId, "other");
    const started = Date.now();
    const result = await run(p, store);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(statuses(result)).toEqual({ slow: "failed", child: "skipped", grandchild: "skipped", other: "succeeded" });
    expect(result.status).toBe("failed");
    expect(result.steps["slow"]!.reason).toMatch(/^time limit of 1s exceeded/);
    expect(result.steps["slow"]!.attempts).toBe(1);
    expect(result.steps["child"]!.reason).toBe('parent "slow" failed');
    expect(result.steps["grandchild"]!.reason).toBe('ancestor "child" did not succeed');
    const [finished] = await finishedAttempts(store, result.runId, "slow");
    expect(finished).toMatchObject({ status: "failed", infrastructure: false });
    expect(finished!.reason).toMatch(/^time limit of 1s exceeded/);
    expect(await markerLines(markers, "child")).toHaveLength(0);
  });

  it("run time limit: the run is cancelled, its running job killed, pending steps cancelled", async () => {
    const { store, markers, sh, markerId } = await world();
    const p = newPipeline("run-limit").addStep({ name: "slow", baseTaskId: await sh("slow", "sleep 30") });
    markerStep(p, markerId, "fast");
    markerStep(p, markerId, "after", ["slow"]);
    const started = Date.now();
    const result = await run(p, store, { runTimeLimitSeconds: 2 });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.status).toBe("cancelled");
    expect(statuses(result)).toEqual({ slow: "cancelled", fast: "succeeded", after: "cancelled" });
    expect(result.steps["slow"]!.reason).toBe("run time limit of 2s exceeded");
    expect(result.steps["after"]!.reason).toBe("run time limit of 2s exceeded");
    const pid = Number((await markerLines(markers, "slow"))[0]!.split(" ")[1]);
    expect(isAlive(pid)).toBe(false);
    const journal = await store.readJournal(result.runId);
    expect(entriesOf(journal, "run-finished").map((e) => e.status)).toEqual(["cancelled"]);
  });
});

describe("failure handling", () => {
  it("continueOnFail: the failed step's children run and the run succeeds", async () => {
    const { store, markers, sh, markerId } = await world();
    const p = newPipeline("continue").addStep({ name: "bad", baseTaskId: await sh("bad", "exit 3"), continueOnFail: true });
    markerStep(p, markerId, "child", ["bad"]);
    const result = await run(p, store);
    expect(result.status).toBe("succeeded");
    expect(statuses(result)).toEqual({ bad: "failed", child: "succeeded" });
    expect(result.steps["bad"]).toMatchObject({ exitCode: 3, attempts: 1 });
    expect(await markerLines(markers, "child")).toHaveLength(1);
  });

  it("by default a failure skips its descendants only; independent steps still run; the run fails", async () => {
    const { store, markers, sh, markerId } = await world();
    const p = newPipeline("skip").addStep({ name: "bad", baseTaskId: await sh("bad", "exit 3") });
    markerStep(p, markerId, "child", ["bad"]);
    markerStep(p, markerId, "grandchild", ["child"]);
    markerStep(p, markerId, "good");
    markerStep(p, markerId, "joined", ["good", "bad"]);
    const result = await run(p, store);
    expect(result.status).toBe("failed");
    expect(statuses(result)).toEqual({ bad: "failed", child: "skipped", grandchild: "skipped", good: "succeeded", joined: "skipped" });
    expect(result.steps["bad"]!.reason).toMatch(/^exited with code 3/);
    expect(result.steps["grandchild"]!.reason).toBe('ancestor "child" did not succeed');
    expect(result.steps["joined"]!.reason).toBe('parent "bad" failed');
    for (const step of ["child", "grandchild", "joined"]) expect(await markerLines(markers, step)).toHaveLength(0);
    const skipped = entriesOf(await store.readJournal(result.runId), "step-skipped").map((e) => e.step);
    expect(skipped.sort()).toEqual(["child", "grandchild", "joined"]);
  });

  it("abortOnFailure: a failure cancels a long-running sibling and everything not yet run", async () => {
    const { store, markers, sh, markerId } = await world();
    const p = newPipeline("abort");
    markerStep(p, markerId, "root");
    p.addStep({ name: "long", baseTaskId: await sh("long", "sleep 30"), parents: ["root"] });
    // Fails once its sibling is surely running (its marker line is written first thing).
    p.addStep({ name: "bad", baseTaskId: await sh("bad", 'until [ -s "$1/long" ]; do sleep 0.05; done; exit 2'), parents: ["root"] });
    markerStep(p, markerId, "after_long", ["long"]);
    const started = Date.now();
    const result = await run(p, store, { abortOnFailure: true });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.status).toBe("cancelled");
    expect(statuses(result)).toEqual({ root: "succeeded", long: "cancelled", bad: "failed", after_long: "cancelled" });
    expect(result.steps["long"]!.reason).toBe('step "bad" failed and abortOnFailure is set');
    const pid = Number((await markerLines(markers, "long"))[0]!.split(" ")[1]);
    expect(isAlive(pid)).toBe(false);
    expect((await finishedAttempts(store, result.runId, "long")).map((e) => e.status)).toEqual(["cancelled"]);
  });
});

describe("hooks", () => {
  it("preExecute returning false skips the step and its descendants; other steps run", async () => {
    const { store, markers, markerId } = await world();
    const p = newPipeline("pre");
    markerStep(p, markerId, "a");
    markerStep(p, markerId, "b", ["a"]);
    markerStep(p, markerId, "c", ["b"]);
    markerStep(p, markerId, "d", ["a"]);
    const seen: StepHookContext[] = [];
    const changes: string[] = [];
    const result = await run(p, store, {
      hooks: {
        b: { preExecute: (ctx) => (seen.push(ctx), false) },
        "*": { onStatusChange: (step, status, previous) => changes.push(`${step}:${previous}>${status}`) },
      },
    });
    expect(changes.filter((c) => /^[bc]:/.test(c))).toEqual(["b:pending>queued", "b:queued>skipped", "c:pending>skipped"]);
    expect(statuses(result)).toEqual({ a: "succeeded", b: "skipped", c: "skipped", d: "succeeded" });
    expect(result.steps["b"]).toMatchObject({ attempts: 0, reason: "preExecute returned false" });
    expect(result.steps["c"]!.reason).toBe('ancestor "b" did not succeed');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ runId: result.runId, step: "b", attempt: 1 });
    expect((seen[0]!.parameters as { parameters: Record<string, unknown> }).parameters["step"]).toBe("b");
    expect(await markerLines(markers, "b")).toHaveLength(0);
    expect(await markerLines(markers, "c")).toHaveLength(0);
    // A deliberate skip is not a failure.
    expect(result.status).toBe("succeeded");
  });

  it("postExecute receives the step's recorded outputs", async () => {
    const { store, markerId } = await world();
    const p = newPipeline("post");
    markerStep(p, markerId, "a");
    markerStep(p, markerId, "b", ["a"]);
    const seen: Array<StepHookContext & { outputs: StepOutputs }> = [];
    const result = await run(p, store, { hooks: { "*": { postExecute: (ctx) => void seen.push(ctx) } } });
    expect(result.status).toBe("succeeded");
    expect(seen.map((s) => s.step)).toEqual(["a", "b"]);
    for (const ctx of seen) {
      expect(ctx.outputs).toEqual(result.steps[ctx.step]!.outputs);
      expect(ctx.outputs.metrics).toEqual({ ran: 1 });
      expect(ctx.outputs.artifacts).toEqual([{ id: expect.stringMatching(/^artifact_/), name: "result", path: join(result.steps[ctx.step]!.attemptDir!, "result.txt") }]);
      expect(ctx.attempt).toBe(1);
    }
  });

  it("onStatusChange sees every step's transitions in order, skips included", async () => {
    const { store, sh, markerId } = await world();
    const p = newPipeline("status");
    markerStep(p, markerId, "a");
    p.addStep({ name: "bad", baseTaskId: await sh("bad", "exit 1"), parents: ["a"] });
    markerStep(p, markerId, "c", ["bad"]);
    const changes: string[] = [];
    await run(p, store, { hooks: { "*": { onStatusChange: (step, status, previous) => changes.push(`${step}:${previous}>${status}`) } } });
    const of = (step: string) => changes.filter((c) => c.startsWith(`${step}:`));
    expect(of("a")).toEqual(["a:pending>queued", "a:queued>running", "a:running>succeeded"]);
    expect(of("bad")).toEqual(["bad:pending>queued", "bad:queued>running", "bad:running>failed"]);
    expect(of("c")).toEqual(["c:pending>skipped"]);
    expect(changes.indexOf("a:running>succeeded")).toBeLessThan(changes.indexOf("bad:pending>queued"));
  });
});

describe("cacheExecutedStep and force", () => {
  it("a second run reuses the cached step without running it; a changed parameter runs it again; force re-runs it", async () => {
    const { store, markers, markerId } = await world();
    const build = (secs: number) => {
      const p = newPipeline("cache");
      p.addStep({ name: "a", baseTaskId: markerId, cacheExecutedStep: true, parameterOverride: { step: "a", secs } });
      markerStep(p, markerId, "b", ["a"], { parameterOverride: { step: "b", secs: 0, inputs: "${a.artifacts.result.url}" } });
      return p;
    };
    const first = await run(build(0), store);
    expect(statuses(first)).toEqual({ a: "succeeded", b: "succeeded" });
    expect(await markerLines(markers, "a")).toHaveLength(1);

    const second = await run(build(0), store);
    expect(second.status).toBe("succeeded");
    expect(statuses(second)).toEqual({ a: "cached", b: "succeeded" });
    expect(second.steps["a"]).toMatchObject({ attempts: 0, reason: `cached: outputs of run ${first.runId}, step a` });
    expect(second.steps["a"]!.outputs).toEqual(first.steps["a"]!.outputs);
    expect(await markerLines(markers, "a")).toHaveLength(1); // not executed
    expect(await markerLines(markers, "b")).toHaveLength(2); // b has no cache: it ran again, on a's cached output
    const cached = entriesOf(await store.readJournal(second.runId), "step-cached");
    expect(cached).toMatchObject([{ step: "a", fromRunId: first.runId, fromStep: "a" }]);
    expect(entriesOf(await store.readJournal(second.runId), "attempt-planned").map((e) => e.step)).toEqual(["b"]);

    const changed = await run(build(0.01), store);
    expect(statuses(changed)).toEqual({ a: "succeeded", b: "succeeded" });
    expect(await markerLines(markers, "a")).toHaveLength(2);

    const forced = await run(build(0), store, { force: ["a"] });
    expect(statuses(forced)).toEqual({ a: "succeeded", b: "succeeded" });
    expect(forced.steps["a"]!.attempts).toBe(1);
    expect(await markerLines(markers, "a")).toHaveLength(3);

    // The forced run refreshed the cache: the next run reuses the forced run's outputs.
    const after = await run(build(0), store);
    expect(statuses(after)).toEqual({ a: "cached", b: "succeeded" });
    expect(after.steps["a"]!.reason).toBe(`cached: outputs of run ${forced.runId}, step a`);
    expect(await markerLines(markers, "a")).toHaveLength(3);
  });
});

describe("resume", () => {
  it("re-runs only the failed step and its skipped descendants; succeeded steps are not run again", async () => {
    const { store, markers, sh, markerId } = await world();
    const needed = join(markers, "needed.txt");
    const p = newPipeline("resume");
    markerStep(p, markerId, "a");
    p.addStep({ name: "needs_file", baseTaskId: await sh("needs_file", `test -f "${needed}" || { echo "missing ${needed}" >&2; exit 4; }`), parents: ["a"] });
    markerStep(p, markerId, "c", ["needs_file"]);
    markerStep(p, markerId, "d", ["c"]);
    markerStep(p, markerId, "independent");
    const first = await run(p, store);
    expect(first.status).toBe("failed");
    expect(statuses(first)).toEqual({ a: "succeeded", needs_file: "failed", c: "skipped", d: "skipped", independent: "succeeded" });
    expect(first.steps["needs_file"]!.reason).toContain(`missing ${needed}`);

    await writeFile(needed, "now it exists\n");
    const resumed = await driveRun(first.runId, { store, resume: true, retryBackoffMs: 20 });
    expect(resumed.status).toBe("succeeded");
    expect(statuses(resumed)).toEqual({ a: "succeeded", needs_file: "succeeded", c: "succeeded", d: "succeeded", independent: "succeeded" });
    expect(resumed.steps["needs_file"]!.attempts).toBe(2);
    expect(resumed.steps["c"]!.attempts).toBe(1);
    for (const [step, runs] of [
      ["a", 1],
      ["independent", 1],
      ["needs_file", 2],
      ["c", 1],
      ["d", 1],
    ] as const) {
      expect(await markerLines(markers, step), step).toHaveLength(runs);
    }
    // The second controller planned attempts for the failed and skipped steps only.
    const journal = await store.readJournal(first.runId);
    const secondStart = journal.findIndex((e, i) => e.type === "run-started" && i > 0);
    expect(entriesOf(journal.slice(secondStart), "attempt-planned").map((e) => `${e.step}#${e.attempt}`)).toEqual(["needs_file#2", "c#1", "d#1"]);
    // Outputs of steps not re-run are the first controller's.
    expect(resumed.steps["a"]!.outputs).toEqual(first.steps["a"]!.outputs);
  });
});

/**
 * Failures: invalid outputs manifests, failed steps skipping their descendants, retries,
 * continueOnFail.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import type { RunEvent } from "../../../src/runner/run-types.js";
import { recordingTask, runLocally, shTask, tempStore } from "../helpers.js";

describe("outputs manifest", () => {
  it("a job writing an outputs.json that is not JSON, or of the wrong shape, fails its step naming the file", async () => {
    const store = await tempStore();
    // The manifest text is passed as a parameter ($1): no brace escaping in the command.
    const write = 'printf "%s" "$1" > "$GPU_DAG_OUTPUT_DIR/outputs.json"';
    const notJson = shTask("not-json", write, { json: "{oops" });
    const badShape = shTask("bad-shape", write, { json: '{"models":[{"name":"m"}],"metrics":{"acc":"high"}}' });
    const good = shTask("good", write, { json: '{"metrics":{"acc":0.5}}' });
    for (const t of [notJson, badShape, good]) await t.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "manifest" })
      .addStep({ name: "not_json", baseTaskId: notJson.id!, executionQueue: "cpu" })
      .addStep({ name: "bad_shape", baseTaskId: badShape.id!, executionQueue: "cpu" })
      .addStep({ name: "good", baseTaskId: good.id!, executionQueue: "cpu" })
      .addStep({ name: "child", baseTaskId: good.id!, parents: ["not_json"], executionQueue: "cpu" });
    const result = await runLocally(p, store);
    expect(result.status).toBe("failed");

    const notJsonFile = join(result.steps["not_json"]!.attemptDir!, "outputs.json");
    expect(result.steps["not_json"]).toMatchObject({ status: "failed", exitCode: 0, attempts: 1 });
    expect(result.steps["not_json"]!.reason).toMatch(new RegExp(`^outputs manifest ${escape(notJsonFile)} is not valid JSON: `));

    const badShapeFile = join(result.steps["bad_shape"]!.attemptDir!, "outputs.json");
    expect(result.steps["bad_shape"]).toMatchObject({
      status: "failed",
      reason: `outputs manifest ${badShapeFile} is invalid: models.0.path: expected a string, got nothing (it is required); metrics.acc: expected a number, got "high" (string)`,
    });
    expect(result.steps["good"]).toMatchObject({ status: "succeeded", outputs: { metrics: { acc: 0.5 }, models: [], artifacts: [], simulated: false } });
    expect(result.steps["child"]).toMatchObject({ status: "skipped", reason: 'parent "not_json" failed' });
    expect(result.metrics).toEqual({ good: { acc: 0.5 } });
  });
});

describe("outputs manifest paths", () => {
  it("a model or artifact path outside the attempt directory, or missing, fails the step naming the manifest and the path; paths inside work", async () => {
    const store = await tempStore();
    // $1 is the manifest text; @DIR@ becomes the attempt directory (absolute paths inside it are fine).
    const write = 'mkdir -p "$GPU_DAG_OUTPUT_DIR/model"; ln -s /etc "$GPU_DAG_OUTPUT_DIR/etc-link"; printf "%s" "$1" | sed "s#@DIR@#$GPU_DAG_OUTPUT_DIR#g" > "$GPU_DAG_OUTPUT_DIR/outputs.json"';
    const manifests = {
      dotdot: '{"models":[{"name":"m","path":"../../../etc"}]}',
      absolute: '{"models":[{"name":"m","path":"/etc"}]}',
      link: '{"artifacts":[{"name":"a","path":"etc-link/hostname"}]}',
      missing: '{"models":[{"name":"m","path":"model-that-was-never-written"}]}',
      inside: '{"models":[{"name":"rel","path":"model"},{"name":"abs","path":"@DIR@/model"}],"artifacts":[{"name":"m","path":"@DIR@/outputs.json"}]}',
    };
    const p = new Pipeline({ projectName: "unit", pipelineName: "manifest-paths" });
    for (const [name, json] of Object.entries(manifests)) {
      const task = shTask(name, write, { json });
      await task.createTask({ store });
      p.addStep({ name, baseTaskId: task.id!, executionQueue: "cpu" });
    }
    const result = await runLocally(p, store);
    expect(result.status).toBe("failed");
    const where = (step: string) => ({ file: join(result.steps[step]!.attemptDir!, "outputs.json"), dir: result.steps[step]!.attemptDir! });
    const reason = (step: string) => result.steps[step]!.reason;
    expect(result.steps["dotdot"]).toMatchObject({ status: "failed", exitCode: 0 });
    expect(reason("dotdot")).toBe(`outputs manifest ${where("dotdot").file}: models.0.path "../../../etc" is outside the attempt directory ${where("dotdot").dir}`);
    expect(reason("absolute")).toBe(`outputs manifest ${where("absolute").file}: models.0.path "/etc" is outside the attempt directory ${where("absolute").dir}`);
    expect(reason("link")).toBe(
      `outputs manifest ${where("link").file}: artifacts.0.path "etc-link/hostname" resolves through a symbolic link to /etc/hostname, outside the attempt directory ${where("link").dir}`,
    );
    expect(reason("missing")).toBe(`outputs manifest ${where("missing").file}: models.0.path "model-that-was-never-written" does not exist (attempt directory ${where("missing").dir})`);
    // Nothing of the refused manifests reached the store; the legitimate one did.
    const { dir } = where("inside");
    expect(result.steps["inside"]).toMatchObject({ status: "succeeded" });
    expect(result.steps["inside"]!.outputs!.models.map((m) => m.path)).toEqual([join(dir, "model"), join(dir, "model")]);
    expect((await store.listModels()).map((m) => m.name).sort()).toEqual(["abs", "rel"]);
  });
});

describe("failed steps", () => {
  it("exit 3 fails the step and skips its descendants with the reason; an independent branch still succeeds", async () => {
    const store = await tempStore();
    const fail = shTask("fail", "echo about-to-fail; echo boom >&2; exit 3");
    const ok = recordingTask("ok");
    for (const t of [fail, ok]) await t.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "fail" })
      .addStep({ name: "root", baseTaskId: ok.id!, executionQueue: "cpu" })
      .addStep({ name: "bad", baseTaskId: fail.id!, parents: ["root"], executionQueue: "cpu" })
      .addStep({ name: "child", baseTaskId: ok.id!, parents: ["bad"], executionQueue: "cpu" })
      .addStep({ name: "grandchild", baseTaskId: ok.id!, parents: ["child", "root"], executionQueue: "cpu" })
      .addStep({ name: "branch", baseTaskId: ok.id!, parents: ["root"], executionQueue: "cpu", parameterOverride: { sleep: 300 } })
      .addStep({ name: "branch2", baseTaskId: ok.id!, parents: ["branch"], executionQueue: "cpu" });
    const events: RunEvent[] = [];
    const result = await runLocally(p, store, { onEvent: (e) => events.push(e) });
    expect(result.status).toBe("failed");
    expect(result.steps["bad"]).toMatchObject({ status: "failed", exitCode: 3, attempts: 1, infrastructure: false });
    expect(result.steps["bad"]!.reason).toBe(`exited with code 3 (job ${result.steps["bad"]!.jobId}); stderr tail:\nboom`);
    expect(result.steps["child"]).toMatchObject({ status: "skipped", attempts: 0, reason: 'parent "bad" failed' });
    expect(result.steps["grandchild"]).toMatchObject({ status: "skipped", attempts: 0, reason: 'ancestor "child" did not succeed' });
    expect(result.steps["branch"]).toMatchObject({ status: "succeeded" });
    expect(result.steps["branch2"]).toMatchObject({ status: "succeeded" });
    expect(events.filter((e) => e.type === "step:skipped").map((e) => "step" in e && e.step)).toEqual(["child", "grandchild"]);
    const journal = await store.readJournal(result.runId);
    expect(
      journal
        .filter((e) => e.type === "step-skipped")
        .map((e) => "step" in e && e.step)
        .sort(),
    ).toEqual(["child", "grandchild"]);
    expect(journal.at(-1)).toMatchObject({ type: "run-finished", status: "failed" });
  });

  it("retryOnFailure: 2 makes 3 attempts of a job that always fails", async () => {
    const store = await tempStore();
    const fail = shTask("always", 'echo "attempt $GPU_DAG_ATTEMPT" >&2; exit 7');
    await fail.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "retry" }).addStep({ name: "flaky", baseTaskId: fail.id!, executionQueue: "cpu", retryOnFailure: 2 });
    const events: RunEvent[] = [];
    const result = await runLocally(p, store, { onEvent: (e) => events.push(e) });
    expect(result.status).toBe("failed");
    expect(result.steps["flaky"]).toMatchObject({ status: "failed", attempts: 3, exitCode: 7 });
    expect(result.steps["flaky"]!.reason).toBe(`exited with code 7 (job ${result.steps["flaky"]!.jobId}); stderr tail:\nattempt 3`);
    expect(events.flatMap((e) => (e.type === "step:failure" ? [[e.attempt, e.willRetry]] : []))).toEqual([
      [1, true],
      [2, true],
      [3, false],
    ]);
    const planned = (await store.readJournal(result.runId)).filter((e) => e.type === "attempt-planned").map((e) => "attempt" in e && e.attempt);
    expect(planned).toEqual([1, 2, 3]);
  });

  it("a job that fails once then succeeds ends succeeded with 2 attempts; its children run", async () => {
    const store = await tempStore();
    const once = shTask("once", '[ "$GPU_DAG_ATTEMPT" = 1 ] && exit 1; printf "$1" "$GPU_DAG_ATTEMPT" > "$GPU_DAG_OUTPUT_DIR/outputs.json"', { json: '{"metrics":{"attempt":%s}}' });
    const ok = recordingTask("ok");
    for (const t of [once, ok]) await t.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "retry-once" })
      .addStep({ name: "flaky", baseTaskId: once.id!, executionQueue: "cpu", retryOnFailure: 2 })
      .addStep({ name: "child", baseTaskId: ok.id!, parents: ["flaky"], executionQueue: "cpu" });
    const result = await runLocally(p, store);
    expect(result.status).toBe("succeeded");
    expect(result.steps["flaky"]).toMatchObject({ status: "succeeded", attempts: 2, outputs: { metrics: { attempt: 2 } } });
    expect(result.steps["flaky"]!.attemptDir).toMatch(/attempt-2$/);
    expect(result.steps["child"]).toMatchObject({ status: "succeeded", attempts: 1 });
  });

  it("continueOnFail lets the children of a failed step run", async () => {
    const store = await tempStore();
    const fail = shTask("soft", "exit 1");
    const ok = recordingTask("ok");
    for (const t of [fail, ok]) await t.createTask({ store });
    const p = new Pipeline({ projectName: "unit", pipelineName: "soft" })
      .addStep({ name: "soft", baseTaskId: fail.id!, executionQueue: "cpu", continueOnFail: true })
      .addStep({ name: "child", baseTaskId: ok.id!, parents: ["soft"], executionQueue: "cpu" })
      .addStep({ name: "hard", baseTaskId: fail.id!, executionQueue: "cpu" })
      .addStep({ name: "hard_child", baseTaskId: ok.id!, parents: ["hard"], executionQueue: "cpu" });
    const result = await runLocally(p, store);
    expect(result.steps["soft"]).toMatchObject({ status: "failed", exitCode: 1 });
    expect(result.steps["child"]).toMatchObject({ status: "succeeded" });
    expect(result.steps["hard_child"]).toMatchObject({ status: "skipped" });
    expect(result.status).toBe("failed");
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

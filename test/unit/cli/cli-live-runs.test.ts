/**
 * Runs that are still going: `run --remote` returns at once and `wait` / `status` follow it;
 * `cancel` ends a running run (live controller, or none) with no job process left; a failing
 * run exits 1 with its reasons; `logs -f` follows a job and strips escape sequences.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE, gd, gdBackground, groupAlive, json, tempHome, until } from "./cli-helpers.js";

interface StatusJson {
  status: string;
  steps: Record<string, { status: string; exitCode?: number | null; reason?: string }>;
}

describe("gpu-dag with live runs", { timeout: 180_000 }, () => {
  let home: string;
  const pipeline = join(EXAMPLE, "pipeline.yaml");
  const status = async (runId: string) => json<StatusJson>(await gd(home, ["status", runId, "--json"]));
  const jobPid = async (runId: string, step: string) => (JSON.parse(await readFile(join(home, "runs", runId, "steps", step, "attempt-1", "job.json"), "utf8")) as { pid: number }).pid;
  const running = (runId: string, step: string) => until(async () => ((await status(runId)).steps[step]?.status === "running" ? true : undefined), 60_000, `${step} running`);

  beforeAll(async () => {
    home = await tempHome();
  });

  it("run --remote returns at once; wait and status follow the run to success", async () => {
    const started = await gd(home, ["run", pipeline, "--remote", "--param", "sleep=3"]);
    expect(started.code, started.stderr).toBe(0);
    const runId = started.stdout.trim();
    expect(runId).toMatch(/^\d{8}-\d{6}-[0-9a-f]+$/);
    expect(started.stderr).toContain(`gpu-dag wait ${runId}`);
    // The step sleeps 3 s: returning before it could have finished proves nothing waited for it.
    expect((await status(runId)).status).not.toBe("succeeded");
    const waited = await gd(home, ["wait", runId, "--timeout", "120"]);
    expect(waited.code, waited.stderr).toBe(0);
    const doc = await status(runId);
    expect(doc.status).toBe("succeeded");
    expect(Object.values(doc.steps).map((s) => s.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    const log = await readFile(join(home, "runs", runId, "controller.log"), "utf8");
    expect(log).toMatch(/controller pid \d+ starting run/);
    expect(log).toContain(`run ${runId} succeeded`);
  });

  it("wait --timeout exits 124 while the run goes on; cancel stops its controller and jobs", async () => {
    const runId = (await gd(home, ["run", pipeline, "--remote", "--param", "sleep=60"])).stdout.trim();
    await running(runId, "prepare");
    const pid = await jobPid(runId, "prepare");
    expect(groupAlive(pid)).toBe(true);
    const timedOut = await gd(home, ["wait", runId, "--timeout", "0.5"]);
    expect(timedOut.code).toBe(124);
    expect(timedOut.stderr).toMatch(/^gpu-dag: run \S+ is still running after 0.5s/);
    const cancel = await gd(home, ["cancel", runId]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toBe(`run ${runId} cancelled\n`);
    const doc = await status(runId);
    expect(doc.status).toBe("cancelled");
    expect(Object.values(doc.steps).map((s) => s.status)).toEqual(["cancelled", "cancelled", "cancelled"]);
    await until(async () => (groupAlive(pid) ? undefined : true), 15_000, "job process group gone");
    expect((await gd(home, ["wait", runId])).code).toBe(1);
  });

  it("cancel without a live controller kills the recorded job and journals the run cancelled", async () => {
    const child = gdBackground(home, ["run", pipeline, "--param", "sleep=60"]);
    let stdout = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    const runId = await until(async () => /^run (\S+):/m.exec(stdout)?.[1], 60_000, "run id");
    await running(runId, "prepare");
    const pid = await jobPid(runId, "prepare");
    child.kill("SIGKILL"); // the controller dies; its job lives on
    await new Promise((r) => child.once("close", r));
    expect(groupAlive(pid)).toBe(true);
    expect((await gd(home, ["runs", "--json"])).stdout).toContain('"status": "interrupted"');
    const cancel = await gd(home, ["cancel", runId, "--json"]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(json(cancel)).toMatchObject({ runId, status: "cancelled", via: "journal", attempts: [{ step: "prepare", attempt: 1, pid, outcome: "killed" }] });
    expect(groupAlive(pid)).toBe(false);
    expect((await status(runId)).steps["prepare"]).toMatchObject({ status: "cancelled" });
  });

  it("a failing step: exit 1, exit code and reasons in status, children skipped, wait exits 1", async () => {
    const file = join(home, "failing.yaml");
    await writeFile(
      file,
      [
        "projectName: p",
        "pipelineName: failing",
        "defaults: { executionQueue: cpu }",
        "tasks:",
        "  boom: { type: custom, options: { command: [sh, -c, 'echo going down; exit 3'] } }",
        "  after: { type: custom, options: { command: [sh, -c, 'echo never'] } }",
        "steps:",
        "  - { name: boom, baseTaskId: boom }",
        "  - { name: after, baseTaskId: after, parents: [boom] }",
      ].join("\n"),
    );
    const result = await gd(home, ["run", file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAILED {3}boom: exited with code 3/);
    const runId = /^run (\S+):/m.exec(result.stdout)![1]!;
    const text = await gd(home, ["status", runId]);
    expect(text.stdout).toMatch(/^boom\s+failed\s+cpu\s+\S+\s+1\s+\S+\s+3$/m);
    expect(text.stdout).toMatch(/^after\s+skipped\s+cpu\s+-\s+0\s+-\s+-$/m);
    expect(text.stdout).toMatch(/\nreasons:\n {2}boom: exited with code 3.*\n {2}after: .*"boom".*\nhint: .*gpu-dag logs \S+ boom --stderr\nhint: .*gpu-dag resume \S+\n$/);
    expect((await gd(home, ["wait", runId])).code).toBe(1);
    expect((await gd(home, ["logs", runId, "boom"])).stdout).toBe("going down\n");
  });

  it("logs -f follows a running job to its end, with escape sequences stripped", async () => {
    const file = join(home, "chatty.yaml");
    await writeFile(
      file,
      [
        "projectName: p",
        "pipelineName: chatty",
        "tasks:",
        "  talk:",
        "    type: custom",
        "    options:",
        "      command: [sh, -c, 'for i in 1 2 3; do printf \"\\033[31mline $i\\033[0m\\033]0;title\\007\\n\"; sleep 1; done']",
        "steps:",
        "  - { name: talk, baseTaskId: talk, executionQueue: cpu }",
      ].join("\n"),
    );
    const runId = (await gd(home, ["run", file, "--remote"])).stdout.trim();
    const followed = await gd(home, ["logs", runId, "talk", "-f"]);
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).toBe("line 1\nline 2\nline 3\n");
    expect((await gd(home, ["wait", runId])).code).toBe(0);
  });
});

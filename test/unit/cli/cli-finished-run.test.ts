/**
 * Every read command on a finished run of examples/pipeline-yaml/pipeline.yaml, through the real
 * binary: text output checked, `--json` parsed and checked.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type CliResult, EXAMPLE, gd, json, tempHome } from "./cli-helpers.js";

interface StatusJson {
  runId: string;
  status: string;
  counts: { total: number; done: number };
  steps: Record<string, { status: string; queue: string; attempts: number; exitCode?: number; jobId?: string; outputs?: { metrics: Record<string, number> } }>;
  metrics: Record<string, Record<string, number>>;
}

describe("gpu-dag on a finished run", { timeout: 120_000 }, () => {
  let home: string;
  let runId: string;
  let first: CliResult;

  beforeAll(async () => {
    home = await tempHome();
    first = await gd(home, ["run", join(EXAMPLE, "pipeline.yaml"), "--param", "greeting=bonjour"]);
    runId = /^run (\S+):/m.exec(first.stdout)?.[1] ?? "";
  }, 120_000);

  it("run: live progress lines, a summary, exit 0", () => {
    expect(first.code, first.stderr).toBe(0);
    expect(runId).toMatch(/^\d{8}-\d{6}-[0-9a-f]+$/);
    const lines = first.stdout.split("\n");
    for (const step of ["prepare", "train", "evaluate"]) {
      expect(lines.some((l) => new RegExp(`^\\s+[\\d.]+s  start    ${step}$`).test(l))).toBe(true);
      expect(lines.some((l) => new RegExp(`^\\s+[\\d.]+s  success  ${step}`).test(l))).toBe(true);
    }
    expect(first.stdout).toContain("success  train  (score=75)");
    expect(first.stdout).toMatch(new RegExp(`^run ${runId} succeeded in .* \\(3 succeeded\\)$`, "m"));
    expect(first.stdout).toContain("metric  evaluate.score_seen = 75");
  });

  it("runs: a table row and JSON", async () => {
    const text = await gd(home, ["runs"]);
    expect(text.code).toBe(0);
    expect(text.stdout.split("\n")[0]).toMatch(/^RUN\s+PIPELINE\s+STATUS\s+STEPS\s+STARTED\s+DURATION$/);
    expect(text.stdout).toMatch(new RegExp(`^${runId}\\s+cli-demo/prepare-train-evaluate\\s+succeeded\\s+3/3\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+\\S+$`, "m"));
    const doc = json<{ runs: Array<{ runId: string; status: string; steps: { done: number; total: number } }> }>(await gd(home, ["runs", "--json"]));
    expect(doc.runs).toHaveLength(1);
    expect(doc.runs[0]).toMatchObject({ runId, status: "succeeded", pipelineName: "prepare-train-evaluate", steps: { done: 3, total: 3 } });
  });

  it("status: a table of steps and JSON", async () => {
    const text = await gd(home, ["status", runId]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`run ${runId}  cli-demo/prepare-train-evaluate  succeeded`);
    expect(text.stdout).toMatch(/^STEP\s+STATE\s+QUEUE\s+JOB\s+ATTEMPT\s+DURATION\s+EXIT$/m);
    for (const step of ["prepare", "train", "evaluate"]) {
      expect(text.stdout).toMatch(new RegExp(`^${step}\\s+succeeded\\s+cpu\\s+gd-${runId}-${step}-a1\\s+1\\s+\\S+\\s+0$`, "m"));
    }
    const doc = json<StatusJson>(await gd(home, ["status", runId, "--json"]));
    expect(doc).toMatchObject({ runId, status: "succeeded", counts: { total: 3, done: 3 } });
    expect(Object.keys(doc.steps)).toEqual(["prepare", "train", "evaluate"]);
    for (const step of Object.values(doc.steps)) expect(step).toMatchObject({ status: "succeeded", queue: "cpu", attempts: 1, exitCode: 0 });
    expect(doc.metrics).toEqual({ prepare: { rows: 3 }, train: { score: 75 }, evaluate: { accuracy: 0.5, score_seen: 75 } });
  });

  it("logs: stdout, --stderr, --attempt, --json, -f on an ended attempt", async () => {
    const out = await gd(home, ["logs", runId, "prepare"]);
    expect(out).toMatchObject({ code: 0, stdout: "prepare: bonjour\n" });
    const evaluate = await gd(home, ["logs", runId, "evaluate", "--attempt", "1"]);
    expect(evaluate.stdout).toMatch(/^evaluate \/.*\/runs\/.*\/steps\/train\/attempt-1\/model \(train score 75\)\n$/);
    expect((await gd(home, ["logs", runId, "evaluate", "--stderr"])).stdout).toBe("a warning on stderr\n");
    expect((await gd(home, ["logs", runId, "train", "-f"])).stdout).toBe("train on 3 rows\n");
    const doc = json(await gd(home, ["logs", runId, "train", "--json"]));
    expect(doc).toMatchObject({ runId, step: "train", attempt: 1, stream: "stdout", text: "train on 3 rows\n" });
  });

  it("graph: Mermaid and DOT coloured by state, SVG through Graphviz or a one-line error", async () => {
    const mermaid = await gd(home, ["graph", runId]);
    expect(mermaid.code).toBe(0);
    expect(mermaid.stdout).toContain("prepare --> train;");
    expect(mermaid.stdout).toContain("train --> evaluate;");
    expect(mermaid.stdout).toContain("class evaluate succeeded;");
    const dot = await gd(home, ["graph", runId, "--format", "dot"]);
    expect(dot.stdout).toMatch(/^digraph "prepare-train-evaluate" \{/);
    expect(dot.stdout).toContain('"train" -> "evaluate";');
    expect(dot.stdout).toContain('"evaluate" [label="evaluate\\ncpu\\nsucceeded", fillcolor="#c8e6c9"');
    const doc = json<{ states: Record<string, string>; graph: string }>(await gd(home, ["graph", runId, "--format", "dot", "--json"]));
    expect(doc.states).toEqual({ prepare: "succeeded", train: "succeeded", evaluate: "succeeded" });
    expect(doc.graph).toBe(dot.stdout);
    const file = await gd(home, ["graph", join(EXAMPLE, "pipeline.yaml")]);
    expect(file.stdout).toContain("prepare --> train;");
    expect(file.stdout).not.toContain("class ");
    const svg = await gd(home, ["graph", runId, "--format", "svg"]);
    if (svg.code === 0) expect(svg.stdout).toContain("<svg");
    else {
      expect(svg.code).toBe(2);
      expect(svg.stderr).toMatch(/^gpu-dag: .*(dot|Graphviz).*\n$/);
      expect(svg.stderr.split("\n")).toHaveLength(2);
    }
  });

  it("models and tasks", async () => {
    const models = json<{ models: Array<{ name: string; step: string; runId: string; path: string }> }>(await gd(home, ["models", "--json"]));
    expect(models.models).toHaveLength(1);
    expect(models.models[0]).toMatchObject({ name: "tiny", step: "train", runId });
    expect(existsSync(join(models.models[0]!.path, "weights.txt"))).toBe(true);
    const text = await gd(home, ["models"]);
    expect(text.stdout).toMatch(new RegExp(`^model_\\S+\\s+tiny\\s+${runId}\\s+train\\s+transformers\\s+local\\s+/`, "m"));
    expect(json(await gd(home, ["tasks", "--json"]))).toEqual({ store: home, tasks: [] });
    expect((await gd(home, ["tasks"])).stdout).toContain("no task drafts");
  });

  it("wait, watch and cancel on a finished run", async () => {
    const wait = await gd(home, ["wait", runId]);
    expect(wait.code).toBe(0);
    expect(wait.stdout).toMatch(new RegExp(`^run ${runId} succeeded in \\S+ \\(3/3 steps done\\)\\n$`));
    expect(json(await gd(home, ["wait", runId, "--json"]))).toMatchObject({ runId, status: "succeeded", outcome: "finished" });
    const watch = await gd(home, ["watch", runId]);
    expect(watch.code).toBe(0);
    expect(watch.stdout).toMatch(/^\[#{20}\] succeeded {2}3\/3 done, 0 running, 0 queued, 0 pending {2}elapsed \S+\n/);
    expect(watch.stdout).not.toContain("\x1b");
    const cancel = await gd(home, ["cancel", runId]);
    expect(cancel).toMatchObject({ code: 0, stdout: `run ${runId} already succeeded: nothing to cancel\n` });
  });

  it("resume --force re-runs a step and its descendants", async () => {
    const resumed = await gd(home, ["resume", runId, "--force", "train"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).not.toContain("start    prepare");
    expect(resumed.stdout).toContain("start    train");
    expect(resumed.stdout).toContain("start    evaluate");
    const doc = json<StatusJson>(await gd(home, ["status", runId, "--json"]));
    expect(Object.fromEntries(Object.entries(doc.steps).map(([n, s]) => [n, [s.status, s.attempts]]))).toEqual({
      prepare: ["succeeded", 1],
      train: ["succeeded", 2],
      evaluate: ["succeeded", 2],
    });
  });
});

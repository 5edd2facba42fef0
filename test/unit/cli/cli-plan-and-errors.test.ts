/**
 * `run --dry-run` submits nothing; the seed-like pipeline runs simulated; config commands; and
 * every user mistake is one line on stderr with exit code 2.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { sanitizeForTerminal } from "../../../src/cli/sanitize.js";
import { EXAMPLE, gd, json, run, tempHome } from "./cli-helpers.js";

const LOCAL_2GPU = join(EXAMPLE, "cluster_configs", "local-2gpu.yaml");
const SLURM = join(EXAMPLE, "cluster_configs", "slurm-example.yaml");

describe("gpu-dag run --dry-run", { timeout: 120_000 }, () => {
  let home: string;
  beforeAll(async () => {
    home = await tempHome();
  });

  it("prints the plan with rendered argv, creates no run and starts no job", async () => {
    const marker = join(home, "job-ran");
    const file = join(home, "marker.yaml");
    await writeFile(
      file,
      [
        "projectName: p",
        "pipelineName: marker",
        "tasks:",
        `  touch: { type: custom, options: { command: [sh, -c, "touch ${marker}"] } }`,
        "steps:",
        "  - { name: only, baseTaskId: touch, executionQueue: cpu }",
      ].join("\n"),
    );
    const text = await gd(home, ["run", file, "--dry-run"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("nothing is submitted");
    expect(text.stdout).toContain(`command:  sh -c 'touch ${marker}'`);
    await new Promise((r) => setTimeout(r, 500));
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(home, "runs"))).toBe(false);

    const plan = json<{ dryRun: boolean; order: string[]; steps: Array<{ name: string; argv: string[]; unresolved: string[]; parents: string[]; resources: { gpus: number } }> }>(
      await gd(home, ["run", join(EXAMPLE, "pipeline.yaml"), "--dry-run", "--json", "--param", "greeting=hey"]),
    );
    expect(plan.dryRun).toBe(true);
    expect(plan.order).toEqual(["prepare", "train", "evaluate"]);
    const [prepare, train, evaluate] = plan.steps;
    expect(prepare!.argv[2]).toContain('echo "prepare: hey"; sleep 0;');
    expect(train!.parents).toEqual(["prepare"]);
    expect(train!.unresolved).toEqual(["${prepare.metrics.rows}"]);
    expect(train!.argv[2]).toContain("train on ${prepare.metrics.rows} rows");
    expect(evaluate!.unresolved).toEqual(["${train.models.output.-1.url}", "${train.metrics.score}"]);
    expect(existsSync(join(home, "runs"))).toBe(false);
  });

  it("shows each step's Slurm batch script for a Slurm cluster", async () => {
    const plan = json<{ cluster: { executor: string }; steps: Array<{ name: string; partition?: string; batchScript?: string; argv: string[] }> }>(
      await gd(home, ["run", join(EXAMPLE, "seed.yaml"), "--dry-run", "--json", "--cluster", SLURM]),
    );
    expect(plan.cluster.executor).toBe("slurm");
    const step1 = plan.steps[0]!;
    expect(step1.partition).toBe("gpu-a100");
    expect(step1.batchScript).toContain("#SBATCH --partition=gpu-a100");
    expect(step1.batchScript).toContain("#SBATCH --gres=gpu:1");
    expect(step1.batchScript).toContain("#SBATCH --time=04:00:00");
    expect(step1.argv.slice(0, 3)).toEqual(["python3", "-m", "gpu_dag_runtime.compress"]);
    expect(plan.steps[1]!.argv).toContain("<path of store model ${step1.models.output.-1.id}>");
    expect(existsSync(join(home, "runs"))).toBe(false);
  });
});

describe("gpu-dag run: the seed-like pipeline, simulated", { timeout: 120_000 }, () => {
  it("runs to success with simulated models and metrics", async () => {
    const home = await tempHome();
    const result = await gd(home, ["run", join(EXAMPLE, "seed.yaml"), "--simulate", "--cluster", LOCAL_2GPU, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const doc = json<{ runId: string; status: string; simulated: boolean; models: Array<{ step: string }>; metrics: Record<string, Record<string, number>> }>(result);
    expect(doc).toMatchObject({ status: "succeeded", simulated: true });
    expect(result.stderr).toContain("success  step1  (simulated");
    expect(doc.models.map((m) => m.step)).toContain("step1");
    expect(Object.keys(doc.metrics).sort()).toEqual(["step2", "step3"]);
    const status = json<{ steps: Record<string, { status: string; queue: string }> }>(await gd(home, ["status", doc.runId, "--json"]));
    expect(Object.values(status.steps).map((s) => [s.status, s.queue])).toEqual([
      ["succeeded", "oneshot-a100x1"],
      ["succeeded", "oneshot-a100x1"],
      ["succeeded", "oneshot-a100x1"],
    ]);
    const models = json<{ models: Array<{ step: string; simulated: boolean }> }>(await gd(home, ["models", "--json"]));
    expect(models.models).toEqual([expect.objectContaining({ step: "step1", simulated: true })]);
  });
});

describe("gpu-dag config commands", { timeout: 60_000 }, () => {
  it("queues: a cluster config's queues as a table and JSON", async () => {
    const text = await run(["queues", "--cluster", LOCAL_2GPU]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^oneshot-a100x1\s+local\s+-\s+1\s+1\s+-\s+-\s+2h00m$/m);
    const doc = json<{ executor: string; queues: Array<{ queue: string; gpus: number; partition?: string; timeLimitSeconds?: number }> }>(await run(["queues", "--cluster", SLURM, "--json"]));
    expect(doc.executor).toBe("slurm");
    expect(doc.queues.find((q) => q.queue === "oneshot-a100x1")).toMatchObject({ partition: "gpu-a100", gpus: 1, timeLimitSeconds: 14400 });
    expect(doc.queues.find((q) => q.queue === "cpu")).toMatchObject({ partition: "cpu", gpus: 0 });
  });

  it("config-schema prints the cluster-config JSON Schema", async () => {
    const schema = json(await run(["config-schema"]));
    expect(JSON.stringify(schema)).toContain('"slurm"');
    expect(JSON.stringify(schema)).toContain('"servicesQueue"');
  });
});

describe("gpu-dag errors", { timeout: 120_000 }, () => {
  let home: string;
  let runId: string;
  beforeAll(async () => {
    home = await tempHome();
    const first = await gd(home, ["run", join(EXAMPLE, "pipeline.yaml"), "--json"]);
    runId = json<{ runId: string }>(first).runId;
  }, 120_000);

  const oneLine = (stderr: string) => {
    expect(stderr.endsWith("\n")).toBe(true);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  };

  it.each([
    [["status", "nope"], 'gpu-dag: run "nope" not found in the store'],
    [["logs", "nope", "x"], 'gpu-dag: run "nope" not found in the store'],
    [["wait", "../etc"], 'gpu-dag: run "../etc" not found in the store'],
    [["graph", "nope"], 'gpu-dag: run "nope" not found in the store'],
    [["cancel", "nope"], 'gpu-dag: run "nope" not found in the store'],
    [["resume", "nope"], 'gpu-dag: run "nope" not found in the store'],
  ])("%j → one line, exit 2", async (args, message) => {
    const result = await gd(home, args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(message + "\n");
  });

  it("a bad step name, attempt or --force names the run's steps", async () => {
    const logs = await gd(home, ["logs", runId, "nostep"]);
    expect(logs.code).toBe(2);
    expect(logs.stderr).toBe(`gpu-dag: run "${runId}" has no step "nostep" (steps: prepare, train, evaluate)\n`);
    const attempt = await gd(home, ["logs", runId, "train", "--attempt", "7"]);
    expect(attempt.code).toBe(2);
    expect(attempt.stderr).toBe(`gpu-dag: step "train" of run "${runId}" has no attempt 7 (attempts: 1)\n`);
    const resume = await gd(home, ["resume", runId, "--force", "nostep"]);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toBe(`gpu-dag: --force names unknown step "nostep" (steps: prepare, train, evaluate)\n`);
  });

  it("invalid pipelines, missing files, bad options and unknown clusters", async () => {
    const bad = join(home, "bad.yaml");
    await writeFile(bad, "projectName: p\npipelineName: bad\nsteps:\n  - { name: a, baseTaskId: nothere, executionQueue: cpu, parents: [zzz] }\n");
    for (const args of [
      ["run", bad],
      ["run", join(home, "missing.yaml")],
      ["run", join(EXAMPLE, "pipeline.yaml"), "--param", "novalue"],
      ["queues", "--cluster", "nocluster"],
      ["status", "--bogus", runId],
      ["graph", runId, "--format", "png"],
    ]) {
      const result = await gd(home, args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      if (args[1] !== bad) oneLine(result.stderr);
    }
    // An invalid pipeline: a headline, then one problem per line.
    const invalid = await gd(home, ["run", bad]);
    expect(invalid.stderr.split("\n")).toEqual([
      'gpu-dag: pipeline "bad" is invalid (2 problems):',
      expect.stringMatching(/^ {2}- step "a", baseTaskId: unknown base task "nothere"/),
      '  - step "a", parents: unknown parent "zzz"',
      "",
    ]);
    expect(existsSync(join(home, "runs"))).toBe(true); // only the beforeAll run
  });

  it("--code on a local cluster: exit 2, one line naming code, no run recorded", async () => {
    const fresh = await tempHome();
    const result = await gd(fresh, ["run", join(EXAMPLE, "pipeline.yaml"), "--simulate", "--code", "."]);
    expect(result.code, result.stderr).toBe(2);
    oneLine(result.stderr);
    expect(result.stderr).toContain('code: only Slurm clusters ship code (cluster executor is "local")');
    expect(existsSync(join(fresh, "runs"))).toBe(false);
  });
});

describe("gpu-dag and documents over the parser limits", { timeout: 120_000 }, () => {
  let home: string;
  beforeAll(async () => {
    home = await tempHome();
  });
  /** Nine anchors of nine aliases each: 9^9 nodes if expanded ("billion laughs"). */
  const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ..."bcdefghi".split("").map((n, i) => `${n}: &${n} [${Array(9).fill(`*${"abcdefghi"[i]}`).join(",")}]`)];

  it.each([
    [
      "an alias bomb in a pipeline file",
      "bomb.yaml",
      ["projectName: p", "pipelineName: bomb", ...bomb].join("\n"),
      /^gpu-dag: \S*bomb\.yaml:4: invalid YAML: aliases expand to more than 100 nodes \(the limit\): an alias bomb \("billion laughs"\)\?$/,
    ],
    [
      "nesting 100 levels deep",
      "deep.yaml",
      `projectName: p\npipelineName: deep\ndescription: ${"[".repeat(100)}${"]".repeat(100)}\n`,
      /^gpu-dag: \S*deep\.yaml:3: invalid YAML: nested deeper than 64 levels \(the limit\)$/,
    ],
    [
      "nesting 100,000 levels deep (beyond the parser's stack)",
      "deeper.json",
      `{"projectName": "p", "description": ${"[".repeat(100_000)}${"]".repeat(100_000)}}`,
      /^gpu-dag: \S*deeper\.json:1: invalid YAML: nested deeper than 64 levels \(the limit\)$/,
    ],
    [
      "a pipeline file of 11 MiB",
      "huge.yaml",
      `projectName: p\npipelineName: huge\n${`# ${"x".repeat(1021)}\n`.repeat(11 * 1024)}`,
      /^gpu-dag: \S*huge\.yaml: invalid YAML: the document is 11\.0 MiB, more than the limit of 10 MiB$/,
    ],
  ])("%s: exit 2, one located line, never an unexpected error", async (_, name, text, expected) => {
    const file = join(home, name);
    await writeFile(file, text);
    for (const args of [
      ["run", file],
      ["run", file, "--dry-run"],
      ["graph", file],
    ]) {
      const result = await gd(home, args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).not.toContain("unexpected error");
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(result.stderr.trimEnd()).toMatch(expected);
    }
    expect(existsSync(join(home, "runs"))).toBe(false);
  });

  it("an alias bomb in a cluster config: exit 2, one located line", async () => {
    const pipeline = join(home, "ok.yaml");
    await writeFile(pipeline, 'projectName: p\npipelineName: ok\ntasks:\n  t: { type: custom, options: { command: ["true"] } }\nsteps:\n  - { name: a, baseTaskId: t, executionQueue: cpu }\n');
    const cluster = join(home, "bomb-cluster.yaml");
    await writeFile(cluster, ["executor: local", ...bomb].join("\n"));
    const result = await gd(home, ["run", pipeline, "--cluster", cluster]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toBe(`gpu-dag: ${cluster}:3: invalid YAML: aliases expand to more than 100 nodes (the limit): an alias bomb ("billion laughs")?\n`);
  });
});

describe("sanitizeForTerminal", () => {
  it("strips escape sequences and control characters, keeps \\n and \\t", () => {
    expect(sanitizeForTerminal("a\x1b[31mred\x1b[0m\tb\n\x1b]0;title\x07c\x07\rd\x00\x85e\x9b2Jf")).toBe("ared\tb\ncdef");
  });
});

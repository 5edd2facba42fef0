/**
 * The results commands on a store of real runs: three runs of the seed pipeline (simulate runtime,
 * local backend; one calibration size as a pipeline parameter, one name used twice) and a
 * base-model evaluation. `runs` filters, metric columns, sorting and CSV; run ids by prefix and by
 * name in other commands; `compare` of two runs; `report recovery` checked against the recorded
 * scores; `models` / `model` lineage; `artifacts`; the index rebuilt from the journals.
 */
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import { roundTo } from "../../../src/results/render.js";
import { FileStore } from "../../../src/store/file-store.js";
import { gd, json, ROOT, tempHome } from "../cli/cli-helpers.js";

const FIXTURES = join(ROOT, "test", "fixtures", "results");
const CLUSTER = { executor: "local" as const, gpus: 2, queues: { "oneshot-a100x1": { gpus: 1 } } };

interface RunsJson {
  runs: Array<{ runId: string; name?: string; tags: string[]; status: string; params: Record<string, string>; metrics: Record<string, number | undefined> }>;
}

describe("results commands on a store of seed-pipeline runs", { timeout: 180_000 }, () => {
  let home: string;
  let store: FileStore;
  const ids: Record<string, string> = {};
  /** Each run's recorded metrics by step, from its journal. */
  const metrics: Record<string, Record<string, Record<string, number>>> = {};

  const seedRun = async (key: string, options: { name: string; tags: string[]; numSamples?: string }) => {
    const pipeline = Pipeline.fromYaml(readFileSync(join(FIXTURES, "seed-sweep.yaml"), "utf8"));
    const result = await pipeline.executeLocally({
      store,
      home,
      runtime: "simulate",
      cluster: CLUSTER,
      name: options.name,
      tags: options.tags,
      ...(options.numSamples ? { parameters: { numSamples: options.numSamples } } : {}),
    });
    expect(result.status, JSON.stringify(result.steps)).toBe("succeeded");
    ids[key] = result.runId;
    metrics[key] = result.metrics;
  };

  beforeAll(async () => {
    home = await tempHome("gpu-dag-seed-store-");
    store = new FileStore({ home });
    await seedRun("a", { name: "w4a16-256", tags: ["sweep"], numSamples: "256" });
    await seedRun("b", { name: "w4a16-512", tags: ["sweep"] });
    await seedRun("c", { name: "w4a16-512", tags: ["sweep", "rerun"] });
    const base = await Pipeline.fromYaml(readFileSync(join(FIXTURES, "base-eval.yaml"), "utf8")).executeLocally({ store, home, runtime: "simulate", cluster: CLUSTER });
    expect(base.status).toBe("succeeded");
    ids["base"] = base.runId;
    metrics["base"] = base.metrics;
  }, 180_000);
  afterAll(() => store.close());

  const runs = async (...args: string[]) => {
    const result = await gd(home, ["runs", "--json", ...args]);
    expect(result.code, result.stderr).toBe(0);
    return json<RunsJson>(result).runs;
  };

  it("runs: names, tags and parameters from the index; --where, --tag, --pipeline, --name, --status, --since filter", async () => {
    const all = await runs();
    expect(all.map((r) => r.runId)).toEqual([ids["base"], ids["c"], ids["b"], ids["a"]]); // newest first
    expect(all.map((r) => r.name)).toEqual(["base-eval", "w4a16-512", "w4a16-512", "w4a16-256"]);
    expect(all[0]).toMatchObject({ tags: ["baseline"], status: "succeeded", params: {} });
    expect(all[3]).toMatchObject({ tags: ["sweep"], params: { numSamples: "256" } });
    expect(all[2]!.params).toEqual({ numSamples: 512 }); // the declared default
    expect((await runs("--where", "numSamples=256")).map((r) => r.runId)).toEqual([ids["a"]]);
    expect((await runs("--where", "numSamples>300")).map((r) => r.runId)).toEqual([ids["c"], ids["b"]]);
    expect((await runs("--where", "numSamples!=256", "--tag", "sweep")).map((r) => r.runId)).toEqual([ids["c"], ids["b"]]);
    expect((await runs("--tag", "sweep,rerun")).map((r) => r.runId)).toEqual([ids["c"]]);
    expect((await runs("--pipeline", "base_eval")).map((r) => r.runId)).toEqual([ids["base"]]);
    expect((await runs("--pipeline", "alexandre_debug/my_pipeline", "--name", "w4a16-*")).map((r) => r.runId)).toEqual([ids["c"], ids["b"], ids["a"]]);
    expect(await runs("--status", "failed")).toEqual([]);
    expect(await runs("--since", "1h")).toHaveLength(4);
    expect(await runs("--since", "2999-01-01")).toEqual([]);
    const bad = await gd(home, ["runs", "--where", "numSamples"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^gpu-dag: --where "numSamples": expected key=value/);
  });

  it("runs --metric shows the recorded metrics; --sort orders by one; --csv has a column per parameter and metric", async () => {
    const shown = await runs("--metric", "openllm/acc", "--metric", "leaderboard/acc");
    for (const row of shown) {
      const key = Object.keys(ids).find((k) => ids[k] === row.runId)!;
      const own = metrics[key]!;
      const openllm = Object.values(own).find((m) => m["openllm/acc"] !== undefined)!["openllm/acc"];
      expect(row.metrics).toEqual({ "openllm/acc": openllm, "leaderboard/acc": Object.values(own).find((m) => m["leaderboard/acc"] !== undefined)!["leaderboard/acc"] });
    }
    const ascending = (await runs("--metric", "openllm/acc", "--sort", "openllm/acc")).map((r) => r.metrics["openllm/acc"]!);
    expect(ascending).toEqual([...ascending].sort((x, y) => x - y));
    expect((await runs("--metric", "openllm/acc", "--sort=-openllm/acc")).map((r) => r.metrics["openllm/acc"])).toEqual([...ascending].reverse());
    expect((await runs("--where", "openllm/acc>=" + ascending[2], "--metric", "openllm/acc")).map((r) => r.metrics["openllm/acc"]).sort()).toEqual(ascending.slice(2).sort());

    const text = await gd(home, ["runs", "--metric", "openllm/acc", "--tag", "sweep"]);
    expect(text.stdout.split("\n")[0]).toMatch(/^RUN\s+NAME\s+PIPELINE\s+STATUS\s+STEPS\s+STARTED\s+DURATION\s+TAGS\s+PARAMS\s+OPENLLM\/ACC$/);
    expect(text.stdout).toMatch(
      new RegExp(`^${ids["a"]}\\s+w4a16-256\\s+alexandre_debug/my_pipeline\\s+succeeded\\s+3/3\\s+.*\\s+sweep\\s+numSamples=256\\s+${metrics["a"]!["step2"]!["openllm/acc"]}$`, "m"),
    );
    const csv = (await gd(home, ["runs", "--csv", "--metric", "openllm/acc", "--tag", "sweep"])).stdout.trimEnd().split("\n");
    expect(csv[0]).toBe("run,name,project,pipeline,status,tags,steps_done,steps_total,created,duration_ms,param.numSamples,metric.openllm/acc");
    expect(csv).toHaveLength(4);
    expect(csv[3]).toMatch(new RegExp(`^${ids["a"]},w4a16-256,alexandre_debug,my_pipeline,succeeded,sweep,3,3,[^,]+,\\d+,256,${metrics["a"]!["step2"]!["openllm/acc"]}$`));
  });

  it("a run is found by id, unique id prefix, or name (the newest with it) in every command; an ambiguous prefix says so", async () => {
    const byName = await gd(home, ["status", "w4a16-512", "--json"]);
    expect(json(byName)).toMatchObject({ runId: ids["c"] });
    const prefix = ids["a"]!.slice(0, -2);
    const unique = [ids["b"], ids["c"], ids["base"]].every((id) => !id!.startsWith(prefix));
    if (unique) expect(json(await gd(home, ["status", prefix, "--json"]))).toMatchObject({ runId: ids["a"] });
    expect((await gd(home, ["logs", "w4a16-256", "step1"])).stdout).toContain("[SIMULATED]");
    expect((await gd(home, ["wait", "base-eval"])).code).toBe(0);
    expect((await gd(home, ["graph", "w4a16-256"])).stdout).toContain("step1");
    const ambiguous = await gd(home, ["status", "2"]);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/^gpu-dag: run ref "2" is ambiguous: 4 run ids start with it \(.*w4a16-512.*\); give more of the id, or a name\n$/);
    const typo = await gd(home, ["status", "w4a16-265"]);
    expect(typo).toMatchObject({ code: 2, stderr: 'gpu-dag: run "w4a16-265" not found in the store (did you mean "w4a16-256"?)\n' });
  });

  it("compare: the parameters that differ, metrics side by side with the difference to the first", async () => {
    const doc = json<{ refs: Array<{ label: string; id: string }>; params: Array<{ name: string; values: unknown[] }>; metrics: Array<{ name: string; values: number[]; deltas: number[] }> }>(
      await gd(home, ["compare", "w4a16-256", ids["b"]!.slice(0, 18), "--json"]),
    );
    expect(doc.refs.map((r) => [r.label, r.id])).toEqual([
      ["w4a16-256", ids["a"]],
      ["w4a16-512", ids["b"]],
    ]);
    expect(doc.params.find((p) => p.name === "numSamples")?.values).toEqual(["256", 512]);
    expect(doc.params.find((p) => p.name === "step1.numSamples")?.values).toEqual([256, 512]);
    expect(doc.params.some((p) => p.name === "step1.config")).toBe(false); // the same in both: not listed
    const [a, b] = [metrics["a"]!, metrics["b"]!];
    expect(doc.metrics).toEqual([
      { name: "leaderboard/acc", values: [a["step3"]!["leaderboard/acc"], b["step3"]!["leaderboard/acc"]], deltas: [0, b["step3"]!["leaderboard/acc"]! - a["step3"]!["leaderboard/acc"]!] },
      { name: "openllm/acc", values: [a["step2"]!["openllm/acc"], b["step2"]!["openllm/acc"]], deltas: [0, b["step2"]!["openllm/acc"]! - a["step2"]!["openllm/acc"]!] },
    ]);
    const text = await gd(home, ["compare", "w4a16-256", ids["b"]!]);
    expect(text.stdout).toMatch(/^numSamples\s+256\s+512$/m);
    expect(text.stdout).toMatch(/^METRIC\s+w4a16-256\s+w4a16-512\s+Δ w4a16-512$/m);
    const markdown = await gd(home, ["compare", "w4a16-256", ids["b"]!, "--markdown"]);
    expect(markdown.stdout).toContain("| parameter | w4a16-256 | w4a16-512 |");
    const csv = await gd(home, ["compare", "w4a16-256", ids["b"]!, "--csv"]);
    expect(csv.stdout.split("\n")[0]).toBe("kind,name,w4a16-256,w4a16-512,delta w4a16-512");
  });

  it("report recovery: each benchmark's ratio and each section's Average from the recorded scores; a run ref and a model ref agree", async () => {
    const report = json<{
      sections: Array<{
        category: string;
        rows: Array<{ benchmark: string; baseline: { mean: number }; candidates: Array<{ stat: { mean: number }; recovery: number | null }> }>;
        average: { candidates: Array<{ recovery: number | null }> };
      }>;
      reproduction: Array<{ role: string; step: string; command: string }>;
    }>(await gd(home, ["report", "recovery", "--baseline", "base-eval", "--candidate", "w4a16-256", "--format", "json"]));
    const [base, cand] = [metrics["base"]!, metrics["a"]!];
    expect(report.sections.map((s) => s.category)).toEqual(["openllm", "leaderboard"]);
    for (const [section, step, baseStep] of [
      [report.sections[0]!, "step2", "openllm"],
      [report.sections[1]!, "step3", "leaderboard"],
    ] as const) {
      const key = `${section.category}/acc`;
      const expected = roundTo((cand[step]![key]! / base[baseStep]![key]!) * 100, 2);
      expect(section.rows).toEqual([
        expect.objectContaining({
          benchmark: section.category,
          baseline: expect.objectContaining({ mean: base[baseStep]![key] }),
          candidates: [expect.objectContaining({ stat: expect.objectContaining({ mean: cand[step]![key] }), recovery: expected })],
        }),
      ]);
      expect(section.average.candidates[0]!.recovery).toBe(expected); // one benchmark: its own ratio
    }
    expect(report.reproduction.map((r) => [r.role, r.step])).toEqual([
      ["evaluation", "openllm"],
      ["evaluation", "leaderboard"],
      ["model", "step1"],
      ["evaluation", "step2"],
      ["evaluation", "step3"],
    ]);
    expect(report.reproduction[2]!.command).toContain("--num-samples 256");
    // The same numbers by model: the base model by its hub name, the candidate by its store id.
    const modelId = json<{ models: Array<{ id: string; runId: string }> }>(await gd(home, ["models", "--json", "--run", "w4a16-256"])).models[0]!.id;
    const byModel = json<typeof report>(await gd(home, ["report", "recovery", "--baseline", "meta-llama/Llama-3.2-1B-Instruct", "--candidate", modelId, "--format", "json"]));
    expect(byModel.sections).toEqual(report.sections);
    const markdown = await gd(home, ["report", "recovery", "--baseline", "base-eval", "--candidate", "w4a16-256"]);
    expect(markdown.stdout).toContain("| Category | Benchmark | base-eval | w4a16-256 | Recovery |");
  });

  it("models and model: lineage from the compression step, the hub base model as parent, the evaluations with their metrics", async () => {
    const list = json<{ models: Array<{ id: string; runId: string; runName: string; step: string; parent: string; evaluations: number }> }>(await gd(home, ["models", "--json"]));
    expect(list.models.map((m) => m.runId)).toEqual([ids["a"], ids["b"], ids["c"]]);
    for (const m of list.models) expect(m).toMatchObject({ step: "step1", parent: "meta-llama/Llama-3.2-1B-Instruct", evaluations: 2 });
    expect(json<typeof list>(await gd(home, ["models", "--json", "--tag", "rerun"])).models.map((m) => m.runId)).toEqual([ids["c"]]);
    expect(json<typeof list>(await gd(home, ["models", "--json", "--pipeline", "base_eval"])).models).toEqual([]);
    const modelA = list.models[0]!;
    const lineage = json<{
      producer: { step: string; task: { type: string }; recipe: { config: string; text: string } };
      parent: { ref: string };
      evaluations: Array<{ runId: string; step: string; metrics: Record<string, number> }>;
      run: { name: string };
    }>(await gd(home, ["model", modelA.id.slice(0, 10), "--json"]));
    expect(lineage.run.name).toBe("w4a16-256");
    expect(lineage.producer).toMatchObject({ step: "step1", task: { type: "llm-compressor" }, recipe: { config: "quantization_w4a16" } });
    expect(lineage.producer.recipe.text).toContain('scheme: "W4A16"');
    expect(lineage.parent).toEqual({ ref: "meta-llama/Llama-3.2-1B-Instruct" });
    expect(lineage.evaluations).toEqual([
      expect.objectContaining({ runId: ids["a"], step: "step2", metrics: metrics["a"]!["step2"] }),
      expect.objectContaining({ runId: ids["a"], step: "step3", metrics: metrics["a"]!["step3"] }),
    ]);
    const text = (await gd(home, ["model", modelA.id])).stdout;
    expect(text).toContain("parent (made from):\n  meta-llama/Llama-3.2-1B-Instruct  (not a store model)");
    expect(text).toMatch(/evaluations \(2\):\n {2}run \S+ \(w4a16-256\) step step2/);
    const artifacts = json<{ artifacts: Array<{ step: string; kind: string; name: string; path: string }> }>(await gd(home, ["artifacts", "w4a16-256", "--json"]));
    expect(artifacts.artifacts.map((a) => [a.step, a.kind, a.name])).toEqual([
      ["step1", "model", "Llama-3.2-1B-Instruct-W4A16"],
      ["step1", "artifact", "recipe"],
      ["step2", "artifact", "results"],
      ["step3", "artifact", "results"],
    ]);
    expect(json<typeof artifacts>(await gd(home, ["artifacts", "w4a16-256", "step2", "--json"])).artifacts.map((a) => a.step)).toEqual(["step2"]);
  });

  it("the index is a cache: removed, it is rebuilt from the runs' records and journals with the same content", async () => {
    const before = await runs("--metric", "openllm/acc");
    await rm(join(home, "index"), { recursive: true, force: true });
    expect(await runs("--metric", "openllm/acc")).toEqual(before);
    expect(
      readFileSync(join(home, "index", "runs.jsonl"), "utf8")
        .trim()
        .split("\n"),
    ).toHaveLength(4); // one full line per run
  });
});

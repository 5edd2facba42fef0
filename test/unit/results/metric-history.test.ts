/**
 * Metric history: a job that reports a metric more than once (a series, as ClearML's
 * report_scalar) has every point kept in the store; its value is the last point for compare,
 * reports and `${step.metrics.x}`, unless another reduction is asked for.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManifestError } from "../../../src/errors.js";
import { parseOutputsManifest } from "../../../src/manifest/outputs-manifest.js";
import { compareRefs } from "../../../src/results/compare.js";
import { metricSeries } from "../../../src/results/history.js";
import { FileStore } from "../../../src/store/file-store.js";
import { gd, json, tempHome } from "../cli/cli-helpers.js";
import { runFixed } from "./fixed-evals.js";

const points = (...values: number[]) => values.map((value, iteration) => ({ iteration: iteration * 10, value }));

describe("metric history", { timeout: 120_000 }, () => {
  let store: FileStore;
  let first: string;
  let second: string;

  beforeAll(async () => {
    store = new FileStore({ home: await tempHome("gpu-dag-history-") });
    first = await runFixed(store, { name: "lr-high", steps: { train: { series: { "train/loss": points(2, 1.5, 1.2) }, metrics: { "eval/acc": 0.6 } } } });
    second = await runFixed(store, { name: "lr-low", steps: { train: { series: { "train/loss": points(1.8, 1, 1.3) }, metrics: { "eval/acc": 0.7 } } } });
  }, 120_000);
  afterAll(() => store.close());

  it("the manifest keeps the series and gives the metric its last point; a bad point is refused naming it", () => {
    const manifest = parseOutputsManifest(JSON.stringify({ series: { loss: points(3, 2) }, metrics: { other: 1 } }), "outputs.json");
    expect(manifest.metrics).toEqual({ other: 1, loss: 2 });
    expect(manifest.series).toEqual({ loss: points(3, 2) });
    expect(() => parseOutputsManifest(JSON.stringify({ series: { loss: [{ iteration: 0, value: "x" }] } }), "o.json")).toThrow(ManifestError);
    expect(() => parseOutputsManifest(JSON.stringify({ series: { loss: [{ iteration: 0, value: "x" }] } }), "o.json")).toThrow(/series\.loss\.0\.value/);
  });

  it("every point is in the store; the run's metric is the last one", async () => {
    const { series } = await metricSeries(store, "lr-high");
    expect(series).toEqual([
      { step: "train", metric: "eval/acc", last: 0.6, points: [{ iteration: 0, value: 0.6 }] },
      { step: "train", metric: "train/loss", last: 1.2, points: points(2, 1.5, 1.2) },
    ]);
    const journal = await store.readJournal(first);
    const finished = journal.find((e) => e.type === "attempt-finished");
    expect(finished && "outputs" in finished && finished.outputs?.series).toEqual({ "train/loss": points(2, 1.5, 1.2) });
    const cli = json<{ metrics: Array<{ metric: string; points: unknown[] }> }>(await gd(store.home, ["metrics", "lr-high", "train", "--metric", "train/loss", "--history", "--json"]));
    expect(cli.metrics).toEqual([{ step: "train", metric: "train/loss", last: 1.2, points: points(2, 1.5, 1.2) }]);
    const text = await gd(store.home, ["metrics", "lr-high", "--history"]);
    expect(text.stdout).toMatch(/^train\s+train\/loss\s+20\s+1\.2$/m);
  });

  it("compare uses the last value unless asked: --reduce min, max, mean, first", async () => {
    const value = async (reduce?: "min" | "max" | "mean" | "first") => (await compareRefs(store, [first, second], reduce ? { reduce } : {})).metrics.find((m) => m.name === "train/loss")!.values;
    expect(await value()).toEqual([1.2, 1.3]);
    expect(await value("min")).toEqual([1.2, 1]);
    expect(await value("max")).toEqual([2, 1.8]);
    expect(await value("first")).toEqual([2, 1.8]);
    const mean = await value("mean");
    expect(mean[0]).toBeCloseTo(4.7 / 3, 12);
    expect(mean[1]).toBeCloseTo(4.1 / 3, 12);
    const cli = json<{ metrics: Array<{ name: string; values: number[] }> }>(await gd(store.home, ["compare", "lr-high", "lr-low", "--reduce", "min", "--json"]));
    expect(cli.metrics.find((m) => m.name === "train/loss")!.values).toEqual([1.2, 1]);
    // The run table (from the index) shows the last value.
    const runs = json<{ runs: Array<{ name: string; metrics: Record<string, number> }> }>(await gd(store.home, ["runs", "--json", "--metric", "train/loss"]));
    expect(runs.runs.map((r) => [r.name, r.metrics["train/loss"]])).toEqual([
      ["lr-low", 1.3],
      ["lr-high", 1.2],
    ]);
  });
});

/**
 * The recovery report over evaluations whose numbers the test chose, checked against values
 * computed by hand: per-benchmark ratios rounded to 2 decimals, seeds averaged first (mean ±
 * sample std over 3 runs of one name), N/A for a zero or missing baseline, each section's Average
 * as avg(candidate) ÷ avg(baseline) over the benchmarks both have (not the mean of the recoveries),
 * the within-noise flag, the metric picked per benchmark, and the four output formats.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RefError } from "../../../src/errors.js";
import { type RecoveryReport, recoveryReport } from "../../../src/results/recovery.js";
import { formatRecovery } from "../../../src/results/recovery-format.js";
import { roundTo } from "../../../src/results/render.js";
import { FileStore } from "../../../src/store/file-store.js";
import { gd, tempHome } from "../cli/cli-helpers.js";
import { runFixed, runSeedMap } from "./fixed-evals.js";

/** Three seeds of the candidate: suite_a and suite_b as two evaluation steps of each run. */
const SEEDS = [
  { arc: 0.47, hs: 0.79, zero: 0.1, mmlu: 0.58, gsm8k: 0.38 },
  { arc: 0.48, hs: 0.81, zero: 0.2, mmlu: 0.59, gsm8k: 0.42 },
  { arc: 0.49, hs: 0.83, zero: 0.3, mmlu: 0.6, gsm8k: 0.43 },
];

describe("report recovery: numbers checked by hand", { timeout: 120_000 }, () => {
  let store: FileStore;
  let report: RecoveryReport;

  beforeAll(async () => {
    // The store lives for the whole file (helpers' tempStore() is removed after each test).
    store = new FileStore({ home: await tempHome("gpu-dag-recovery-") });
    await runFixed(store, {
      name: "base",
      tags: ["baseline"],
      steps: {
        suite_a: { metrics: { "arc/acc": 0.5, "arc/acc_stderr": 0.01, "hellaswag/acc_norm": 0.8, "hellaswag/acc": 0.7, "zero/acc": 0, "eval/duration_s": 3 } },
        suite_b: { metrics: { "mmlu/acc": 0.6, "gsm8k/exact_match/strict-match": 0.4, "gsm8k/exact_match/flexible-extract": 0.45, "average/acc": 0.5 } },
      },
    });
    for (const [seed, s] of SEEDS.entries()) {
      await runFixed(store, {
        name: "cand",
        parameters: { seed: String(seed) },
        steps: {
          suite_a: { metrics: { "arc/acc": s.arc, "hellaswag/acc_norm": s.hs, "hellaswag/acc": s.hs - 0.1, "zero/acc": s.zero, "winogrande/acc": 0.6 } },
          suite_b: { metrics: { "mmlu/acc": s.mmlu, "gsm8k/exact_match/strict-match": s.gsm8k } },
        },
      });
    }
    await runFixed(store, { name: "cand2", steps: { suite_a: { metrics: { "arc/acc": 0.51, "hellaswag/acc_norm": 0.8 } } } });
    report = await recoveryReport(store, { baseline: "base", candidates: ["name:cand", "cand2"] });
  }, 120_000);
  afterAll(() => store.close());

  it("per benchmark: candidate ÷ baseline × 100 to 2 decimals, seeds averaged first; N/A for zero or missing baseline", () => {
    expect(report.sections.map((s) => s.category)).toEqual(["suite_a", "suite_b"]);
    const [a, b] = report.sections;
    const row = (section: typeof a, benchmark: string) => section!.rows.find((r) => r.benchmark === benchmark)!;
    expect(a!.rows.map((r) => [r.benchmark, r.metric])).toEqual([
      ["arc", "acc"],
      ["hellaswag", "acc_norm"], // acc_norm is preferred to acc; acc_stderr and eval/duration_s are not scores
      ["zero", "acc"],
      ["winogrande", "acc"],
    ]);
    expect(b!.rows.map((r) => [r.benchmark, r.metric])).toEqual([
      ["mmlu", "acc"],
      ["gsm8k", "exact_match/strict-match"], // average/acc is not a benchmark
    ]);
    // arc: mean(0.47, 0.48, 0.49) = 0.48; 0.48 / 0.50 = 96.00 %; sd = 0.01.
    const arc = row(a, "arc").candidates[0]!;
    expect(arc.stat!.n).toBe(3);
    expect(arc.stat!.mean).toBeCloseTo(0.48, 12);
    expect(arc.stat!.std).toBeCloseTo(0.01, 12);
    expect(arc).toMatchObject({ recovery: 96, withinNoise: false });
    // hellaswag: mean(0.79, 0.81, 0.83) = 0.81; 0.81 / 0.80 = 101.25 %, lead 0.01 ≤ sd 0.02: within noise.
    expect(row(a, "hellaswag").candidates[0]).toMatchObject({ recovery: 101.25, withinNoise: true });
    // zero baseline → N/A; no baseline at all → N/A.
    expect(row(a, "zero").baseline!.mean).toBe(0);
    expect(row(a, "zero").candidates[0]!.recovery).toBeNull();
    expect(row(a, "winogrande").baseline).toBeUndefined();
    expect(row(a, "winogrande").candidates[0]!.recovery).toBeNull();
    // mmlu: 0.59 / 0.60 = 98.333… → 98.33; gsm8k strict: 0.41 / 0.40 = 102.50, sd 0.02646 ≥ lead 0.01: within noise.
    expect(row(b, "mmlu").candidates[0]!.recovery).toBe(98.33);
    expect(row(b, "gsm8k").candidates[0]).toMatchObject({ recovery: 102.5, withinNoise: true });
    expect(row(b, "gsm8k").candidates[0]!.stat!.std).toBeCloseTo(Math.sqrt(0.0007), 12);
    // A single run against a single run: no seeds, never flagged (arc 0.51 / 0.50 = 102.00).
    expect(row(a, "arc").candidates[1]).toMatchObject({ recovery: 102, withinNoise: false });
    expect(row(b, "mmlu").candidates[1]).toMatchObject({ recovery: null });
  });

  it("the Average row is avg(candidate) ÷ avg(baseline) over the benchmarks both have, not the mean of the recoveries", () => {
    const [a, b] = report.sections;
    // suite_a, candidate 1: arc, hellaswag, zero (a zero baseline is a score both have; winogrande is not):
    // (0.48 + 0.81 + 0.20) / (0.50 + 0.80 + 0.00) = 1.49 / 1.30 = 114.615… → 114.62 (mean of the recoveries would be 98.63).
    expect(a!.average.candidates[0]).toMatchObject({ recovery: 114.62, benchmarks: ["arc", "hellaswag", "zero"] });
    expect(a!.average.candidates[0]!.value).toBeCloseTo(1.49 / 3, 12);
    expect(a!.average.candidates[0]!.baseline).toBeCloseTo(1.3 / 3, 12);
    // suite_b: (0.59 + 0.41) / (0.60 + 0.40) = 100.00 (the mean of 98.33 and 102.50 is 100.42).
    expect(b!.average.candidates[0]).toMatchObject({ recovery: 100, benchmarks: ["mmlu", "gsm8k"] });
    // Candidate 2: suite_a over arc and hellaswag: 1.31 / 1.30 = 100.769… → 100.77; suite_b: nothing shared → N/A.
    expect(a!.average.candidates[1]).toMatchObject({ recovery: 100.77, benchmarks: ["arc", "hellaswag"] });
    expect(b!.average.candidates[1]).toMatchObject({ recovery: null, benchmarks: [] });
    // The baseline's own Average cell: over the benchmarks every candidate has (arc, hellaswag).
    expect(a!.average.baseline).toBeCloseTo(0.65, 12);
  });

  it("markdown in the model-card shape; CSV, HTML and JSON carry the same numbers", () => {
    const markdown = formatRecovery(report, "markdown");
    const lines = markdown.split("\n");
    expect(lines).toContain("| Category | Benchmark | base | cand | Recovery (cand) | cand2 | Recovery (cand2) |");
    expect(lines).toContain("| suite_a | arc (acc) | 0.5 | 0.48 ± 0.01 | 96.00% | 0.51 | 102.00% |");
    expect(lines).toContain("|  | hellaswag (acc_norm) | 0.8 | 0.81 ± 0.02 | 101.25% † | 0.8 | 100.00% |");
    expect(lines).toContain("|  | zero (acc) | 0 | 0.2 ± 0.1 | N/A | — | N/A |");
    expect(lines).toContain("|  | winogrande (acc) | — | 0.6 ± 0 | N/A | — | N/A |");
    expect(lines).toContain("|  | **Average** | **0.65** | **0.4967** | **114.62%** | **0.655** | **100.77%** |");
    expect(lines).toContain("|  | **Average** | **0.5** | **0.5** | **100.00%** | **—** | **N/A** |");
    expect(markdown).toContain("† above 100 % but within the noise");
    expect(markdown).toMatch(/### Reproduction\n\n```sh\n# base: evaluation, run \S+ \(base\) step suite_a on queue cpu\n\S*node -e /);
    const csv = formatRecovery(report, "csv").split("\n");
    expect(csv[0]).toBe(
      "category,benchmark,metric,baseline,baseline_std,baseline_n,candidate1,candidate1_std,candidate1_n,recovery1,within_noise1,candidate2,candidate2_std,candidate2_n,recovery2,within_noise2",
    );
    expect(csv.find((l) => l.startsWith("suite_b,gsm8k,"))).toMatch(/^suite_b,gsm8k,exact_match\/strict-match,0\.4,,1,0\.41,0\.02645751311064\d*,3,102\.5,true,,,,N\/A,false$/);
    expect(csv.find((l) => l.startsWith("suite_a,Average,"))).toMatch(/,114\.62,,/);
    const html = formatRecovery(report, "html");
    expect(html).toContain("<th>Category</th><th>Benchmark</th><th>base</th>");
    expect(html).toContain('<tr class="summary"><td></td><td><strong>Average</strong></td>');
    const doc = JSON.parse(formatRecovery(report, "json")) as RecoveryReport;
    expect(doc.sections[0]!.average.candidates[0]!.recovery).toBe(114.62);
    expect(doc.baseline).toMatchObject({ label: "base", evaluations: 2, simulated: false });
    expect(doc.candidates[0]).toMatchObject({ label: "cand", evaluations: 6 });
  });

  it("the same report from the CLI; a ref that names nothing is one line, exit 2", async () => {
    const cli = await gd(store.home, ["report", "recovery", "--baseline", "base", "--candidate", "name:cand", "--candidate", "cand2"]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toBe(formatRecovery(report, "markdown"));
    const bad = await gd(store.home, ["report", "recovery", "--baseline", "base", "--candidate", "nosuch"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^gpu-dag: "nosuch" names no run .*\n$/);
    await expect(recoveryReport(store, { baseline: "nosuch", candidates: ["cand2"] })).rejects.toBeInstanceOf(RefError);
  });

  it("seeds as the elements of a map step: run:step pools them, the same numbers as three runs", async () => {
    const mapRun = await runSeedMap(store, { name: "cand-map", step: "suite_a", bySeed: SEEDS.map((s) => ({ metrics: { "arc/acc": s.arc, "hellaswag/acc_norm": s.hs, "zero/acc": s.zero } })) });
    const byMap = await recoveryReport(store, { baseline: "base:suite_a", candidates: [`${mapRun}:suite_a`] });
    expect(byMap.candidates[0]).toMatchObject({ label: "cand-map:suite_a", evaluations: 3 });
    expect(byMap.sections.map((s) => s.category)).toEqual(["suite_a"]);
    const rows = byMap.sections[0]!.rows;
    expect(rows.map((r) => [r.benchmark, r.candidates[0]!.stat!.n, r.candidates[0]!.recovery])).toEqual([
      ["arc", 3, 96],
      ["hellaswag", 3, 101.25],
      ["zero", 3, null],
    ]);
    expect(byMap.sections[0]!.average.candidates[0]!.recovery).toBe(114.62);
    // The run table shows a map's metric as its elements' mean.
    const runs = JSON.parse((await gd(store.home, ["runs", "--json", "--name", "cand-map", "--metric", "arc/acc"])).stdout) as { runs: Array<{ metrics: Record<string, number> }> };
    expect(runs.runs[0]!.metrics["arc/acc"]).toBeCloseTo(0.48, 12);
  });

  it("job-given names cannot break the table or reach the terminal as escape sequences", () => {
    const evil: RecoveryReport = {
      ...report,
      baseline: { ...report.baseline, label: "base|\u001b[31mred" },
      sections: [{ ...report.sections[0]!, category: "cat<script>", rows: [{ ...report.sections[0]!.rows[0]!, benchmark: "arc|x\u001b]0;title\u0007" }] }],
    };
    const markdown = formatRecovery(evil, "markdown");
    expect([...markdown].filter((c) => c !== "\n" && (c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f)))).toEqual([]);
    expect(markdown).toContain("| cat&lt;script&gt; | arc\\|x]0;title (acc) |");
    expect(markdown).toContain("base\\|[31mred");
    const html = formatRecovery(evil, "html");
    expect(html).toContain("<td>cat&lt;script&gt;</td>");
    expect(html).not.toContain("<script>");
    expect(formatRecovery({ ...evil, sections: [{ ...evil.sections[0]!, rows: [{ ...evil.sections[0]!.rows[0]!, benchmark: "=HYPERLINK(1)" }] }] }, "csv")).toContain("'=HYPERLINK(1)");
  });

  it("rounds half away from zero on the decimal value", () => {
    expect([roundTo(1.005, 2), roundTo(96.00000000000001, 2), roundTo(114.61538461538461, 2), roundTo(-2.675, 2)]).toEqual([1.01, 96, 114.62, -2.68]);
  });
});

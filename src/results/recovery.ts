/**
 * The recovery report: how much of a baseline (base) model's scores compressed candidates keep,
 * by the rules the compression community publishes model cards with.
 *
 * - A side (the baseline, or one candidate) is one or more refs (`sources.ts`); every evaluation
 *   they hold is one **sample**. Several samples of one benchmark (repeated seeds) are averaged
 *   first: mean, and the sample standard deviation (n − 1) when there are several.
 * - Per benchmark: recovery = candidate ÷ baseline × 100, rounded to 2 decimals (half away from
 *   zero). A zero or missing baseline, or a missing candidate, gives N/A (`null`).
 * - Each section (category) ends with an **Average** row: avg(candidate) ÷ avg(baseline) × 100
 *   over the benchmarks both have — the ratio of the averages, not the average of the recoveries.
 * - A recovery above 100 % is flagged *within noise* when some side has several seeds and the
 *   candidate's lead is no more than the combined spread: mean_c − mean_b ≤ √(sd_c² + sd_b²).
 * - `reproduction` lists the commands of the steps that produced the numbers (each evaluation, and
 *   the step that made each evaluated store model).
 *
 * @module
 */
import { shellJoin } from "../args/shell-quote.js";
import { QueryError } from "../errors.js";
import type { ModelRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { benchmarkScores, pickMetric } from "./benchmarks.js";
import { type MetricReduction, metricValues } from "./metric-values.js";
import { roundTo } from "./render.js";
import { mean } from "./run-metrics.js";
import { runSummaries } from "./run-summaries.js";
import { resolveSource, type Source, uniqueLabels } from "./sources.js";
import { loadRunResults } from "./step-results.js";

/** Mean (and spread) of one benchmark's samples. */
export interface SampleStat {
  mean: number;
  /** Sample standard deviation (n − 1), when n ≥ 2. */
  std?: number;
  n: number;
  values: number[];
}

/** One benchmark row. */
export interface RecoveryRow {
  benchmark: string;
  /** The metric that scores it (`acc_norm`, `exact_match/strict-match`; "" for a bare metric). */
  metric: string;
  baseline?: SampleStat;
  candidates: Array<{ stat?: SampleStat; recovery: number | null; withinNoise: boolean }>;
}

/** A section's Average row, per candidate. */
export interface SectionAverage {
  /** The baseline's average over the benchmarks it shares with every candidate scored in the section. */
  baseline?: number;
  candidates: Array<{ value?: number; baseline?: number; recovery: number | null; benchmarks: string[] }>;
}

/** One category. */
export interface RecoverySection {
  category: string;
  rows: RecoveryRow[];
  average: SectionAverage;
}

/** A side of the report. */
export interface RecoverySide {
  label: string;
  refs: string[];
  /** Evaluations (samples) it holds. */
  evaluations: number;
  simulated: boolean;
}

/** A command that produced numbers of the report. */
export interface ReproductionStep {
  side: string;
  role: "evaluation" | "model";
  runId: string;
  runName?: string;
  step: string;
  queue?: string;
  command?: string;
  simulated: boolean;
}

/** The report. */
export interface RecoveryReport {
  baseline: RecoverySide;
  candidates: RecoverySide[];
  sections: RecoverySection[];
  reproduction: ReproductionStep[];
  reduce: MetricReduction;
}

/** Options of {@link recoveryReport}. */
export interface RecoveryOptions {
  /** The base model's evaluations: one ref, or several pooled (seeds). */
  baseline: string | readonly string[];
  /** Each candidate: one ref, or several pooled. */
  candidates: ReadonlyArray<string | readonly string[]>;
  /** Score metric overrides: `task=metric`, or a metric name used wherever present. */
  metrics?: readonly string[];
  /** How a metric series becomes one value (default `last`). */
  reduce?: MetricReduction;
  /** Column labels (default: each side's first ref's label). */
  labels?: { baseline?: string; candidates?: readonly (string | undefined)[] };
}

interface SideData {
  side: RecoverySide;
  sources: Source[];
  /** category → benchmark → metric → sample values. */
  samples: Map<string, Map<string, Map<string, number[]>>>;
}

/**
 * Builds the report (throws `RefError` for a ref that names nothing, {@link QueryError} for a side
 * without evaluations). `formatRecovery()` prints it as markdown, CSV, HTML or JSON.
 *
 * @example
 * ```ts
 * import { defaultStore, formatRecovery, Pipeline, recoveryReport, Task } from "gpu-dag";
 *
 * // An evaluation that reports one lm-eval-style score (a real pipeline runs an LMEvalTask).
 * const scores = new Task({
 *   projectName: "docs", taskName: "scores", parameters: { acc: 0 },
 *   command: ["sh", "-c", `printf '{{"metrics": {{"arc/acc": %s}}}}' {acc} > "$GPU_DAG_OUTPUT_DIR/outputs.json"`],
 * });
 * await scores.createTask();
 * for (const [name, acc] of [["base", 0.5], ["w4a16", 0.48]] as const) {
 *   const pipeline = new Pipeline({ projectName: "docs", pipelineName: "evals" });
 *   pipeline.addStep({ name: "eval", baseTaskId: scores.id!, executionQueue: "default", parameterOverride: { acc } });
 *   await pipeline.executeLocally({ name }); // runs are found by name (or id, or id prefix)
 * }
 *
 * const report = await recoveryReport(defaultStore(), { baseline: "base", candidates: ["w4a16"] });
 * console.log(report.sections[0]?.rows[0]?.candidates[0]?.recovery); // prints: 96
 * console.log(formatRecovery(report, "markdown").split("\n")[4]); // prints: | eval | arc (acc) | 0.5 | 0.48 | 96.00% |
 * ```
 */
export async function recoveryReport(store: Store, options: RecoveryOptions): Promise<RecoveryReport> {
  if (options.candidates.length === 0) throw new QueryError("--candidate", "a recovery report needs at least one candidate (--candidate <ref>)");
  const reduce = options.reduce ?? "last";
  const context = { store, summaries: await runSummaries(store), models: await store.listModels() };
  const load = async (refs: readonly string[], label: string | undefined, option: string): Promise<SideData> => {
    const sources: Source[] = [];
    for (const ref of refs) sources.push(await resolveSource(context, ref));
    const evaluations = sources.flatMap((s) => s.evaluations);
    if (evaluations.length === 0) throw new QueryError(option, `${option} ${refs.join(",")}: no evaluation with metrics (a run's lm-eval steps, a run:step, or a model's evaluations)`);
    const samples: SideData["samples"] = new Map();
    for (const evaluation of evaluations) {
      const scores = benchmarkScores(evaluation, metricValues(evaluation.outputs, reduce));
      const section = samples.get(scores.category) ?? new Map();
      samples.set(scores.category, section);
      for (const [task, metrics] of scores.benchmarks) {
        const bench = section.get(task) ?? new Map<string, number[]>();
        section.set(task, bench);
        for (const [metric, value] of metrics) bench.set(metric, [...(bench.get(metric) ?? []), value]);
      }
    }
    return { side: { label: label ?? sources[0]!.label, refs: [...refs], evaluations: evaluations.length, simulated: evaluations.some((e) => e.outputs.simulated) }, sources, samples };
  };
  const asList = (refs: string | readonly string[]) => (typeof refs === "string" ? [refs] : [...refs]);
  const baseline = await load(asList(options.baseline), options.labels?.baseline, "--baseline");
  const candidates: SideData[] = [];
  for (const [i, refs] of options.candidates.entries()) candidates.push(await load(asList(refs), options.labels?.candidates?.[i], "--candidate"));
  const sides = [baseline, ...candidates];
  const labels = uniqueLabels(
    sides.map((d) => d.sources[0]!),
    sides.map((d) => d.side.label),
  );
  for (const [i, side] of sides.entries()) side.side.label = labels[i]!;

  const sections: RecoverySection[] = [];
  for (const category of orderedKeys([baseline.samples, ...candidates.map((c) => c.samples)])) {
    const sides = [baseline, ...candidates].map((d) => d.samples.get(category) ?? new Map<string, Map<string, number[]>>());
    const rows: RecoveryRow[] = [];
    for (const benchmark of orderedKeys(sides)) {
      const [base, ...cands] = sides.map((s) => s.get(benchmark));
      const shared = intersect([base, ...cands].filter((m): m is Map<string, number[]> => m !== undefined).map((m) => [...m.keys()]));
      const union = [...new Set([base, ...cands].flatMap((m) => (m ? [...m.keys()] : [])))];
      const metric = pickMetric(benchmark, shared.length > 0 ? shared : union, options.metrics) ?? "";
      const baseStat = statOf(base?.get(metric));
      rows.push({ benchmark, metric, ...(baseStat ? { baseline: baseStat } : {}), candidates: cands.map((c) => compareStat(baseStat, statOf(c?.get(metric)))) });
    }
    if (rows.length > 0) sections.push({ category, rows, average: sectionAverage(rows, candidates.length) });
  }
  return {
    baseline: baseline.side,
    candidates: candidates.map((c) => c.side),
    sections,
    reproduction: await reproduction(store, [baseline, ...candidates], context.models),
    reduce,
  };
}

function statOf(values: number[] | undefined): SampleStat | undefined {
  if (!values || values.length === 0) return undefined;
  const m = mean(values);
  const std = values.length > 1 ? Math.sqrt(values.reduce((sum, v) => sum + (v - m) ** 2, 0) / (values.length - 1)) : undefined;
  return { mean: m, ...(std !== undefined ? { std } : {}), n: values.length, values };
}

/** Recovery (2 decimals) of a candidate's mean over the baseline's; `null` for N/A. */
export function recoveryOf(candidate: number | undefined, baseline: number | undefined): number | null {
  if (candidate === undefined || baseline === undefined || baseline === 0 || !Number.isFinite(candidate) || !Number.isFinite(baseline)) return null;
  return roundTo((candidate / baseline) * 100, 2);
}

function compareStat(base: SampleStat | undefined, cand: SampleStat | undefined): RecoveryRow["candidates"][number] {
  const recovery = recoveryOf(cand?.mean, base?.mean);
  const seeds = (base?.n ?? 0) > 1 || (cand?.n ?? 0) > 1;
  const spread = Math.sqrt((base?.std ?? 0) ** 2 + (cand?.std ?? 0) ** 2);
  const withinNoise = recovery !== null && recovery > 100 && seeds && cand !== undefined && base !== undefined && cand.mean - base.mean <= spread;
  return { ...(cand ? { stat: cand } : {}), recovery, withinNoise };
}

function sectionAverage(rows: readonly RecoveryRow[], candidates: number): SectionAverage {
  const perCandidate = Array.from({ length: candidates }, (_, j) => {
    const shared = rows.filter((r) => r.baseline !== undefined && r.candidates[j]?.stat !== undefined);
    if (shared.length === 0) return { recovery: null, benchmarks: [] };
    const value = mean(shared.map((r) => r.candidates[j]!.stat!.mean));
    const baseline = mean(shared.map((r) => r.baseline!.mean));
    return { value, baseline, recovery: recoveryOf(value, baseline), benchmarks: shared.map((r) => r.benchmark) };
  });
  // Candidates with no score in the section do not narrow the baseline's own Average.
  const present = Array.from({ length: candidates }, (_, j) => j).filter((j) => rows.some((r) => r.candidates[j]?.stat !== undefined));
  const everywhere = rows.filter((r) => r.baseline !== undefined && present.every((j) => r.candidates[j]?.stat !== undefined));
  return { ...(everywhere.length > 0 ? { baseline: mean(everywhere.map((r) => r.baseline!.mean)) } : {}), candidates: perCandidate };
}

async function reproduction(store: Store, sides: readonly SideData[], models: readonly ModelRecord[]): Promise<ReproductionStep[]> {
  const out: ReproductionStep[] = [];
  const seen = new Set<string>();
  const add = (step: ReproductionStep) => {
    const key = `${step.side}\u0000${step.runId}\u0000${step.step}`;
    if (!seen.has(key)) seen.add(key) && out.push(step);
  };
  for (const data of sides) {
    for (const evaluation of data.sources.flatMap((s) => s.evaluations)) {
      const producer = models.find((m) => m.id === evaluation.input);
      if (producer) {
        const made = (await loadRunResults(store, producer.runId).catch(() => undefined))?.steps.find((s) => s.step === producer.step);
        add({
          side: data.side.label,
          role: "model",
          runId: producer.runId,
          step: producer.step,
          ...(made?.queue ? { queue: made.queue } : {}),
          ...(made?.argv ? { command: shellJoin(made.argv) } : {}),
          simulated: producer.simulated,
        });
      }
      add({
        side: data.side.label,
        role: "evaluation",
        runId: evaluation.runId,
        ...(evaluation.runName ? { runName: evaluation.runName } : {}),
        step: evaluation.step,
        ...(evaluation.queue ? { queue: evaluation.queue } : {}),
        ...(evaluation.argv ? { command: shellJoin(evaluation.argv) } : {}),
        simulated: evaluation.outputs.simulated,
      });
    }
  }
  return out;
}

function orderedKeys<K>(maps: ReadonlyArray<ReadonlyMap<K, unknown>>): K[] {
  return [...new Set(maps.flatMap((m) => [...m.keys()]))];
}

function intersect(lists: readonly string[][]): string[] {
  if (lists.length === 0) return [];
  return lists[0]!.filter((x) => lists.every((l) => l.includes(x)));
}

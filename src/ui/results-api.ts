/**
 * The dashboard's results endpoints, answered by the results layer itself so the pages show the
 * numbers `gpu-dag compare`, `gpu-dag report recovery` and `gpu-dag models` print:
 *
 * - `GET /api/compare?ref=<ref>&ref=<ref>…[&reduce=last]` — {@link compareRefs}, plus the metric
 *   series of each run or `run:step` ref ({@link metricSeries}) for the line charts;
 * - `GET /api/recovery?baseline=<refs>&candidate=<refs>…` — {@link recoveryReport} (a side of
 *   several refs, comma-separated, is pooled as the CLI pools it);
 * - `GET /api/models` — {@link listModelRows}; `GET /api/models/<ref>` — {@link modelLineage}.
 *
 * A ref that names nothing is a 400 with the results layer's message.
 *
 * @module
 */
import { GpuDagError } from "../errors.js";
import { compareRefs } from "../results/compare.js";
import { metricSeries } from "../results/history.js";
import { listModelRows, modelLineage } from "../results/lineage.js";
import { parseReduction } from "../results/metric-values.js";
import { recoveryReport } from "../results/recovery.js";
import { splitStepRef } from "../results/refs.js";
import type { Store } from "../store/store.js";

/** An answer: HTTP status and JSON body. */
export interface ApiAnswer {
  status: number;
  body: unknown;
}

/** Most refs one compare or recovery request may name. */
const MAX_REFS = 20;

/** A comma list as the CLI reads one (`a,b` pools two refs). */
const list = (text: string): string[] =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** Answers `parts` (the path split, after `api`) with `url`'s query; `undefined`: not a results route. */
export async function resultsRoute(store: Store, parts: readonly string[], url: URL): Promise<ApiAnswer | undefined> {
  const route = parts[1];
  if (route !== "compare" && route !== "recovery" && route !== "models") return undefined;
  try {
    if (route === "compare" && parts.length === 2) return await compare(store, url);
    if (route === "recovery" && parts.length === 2) return await recovery(store, url);
    if (route === "models" && parts.length === 2) return { status: 200, body: { models: await listModelRows(store) } };
    if (route === "models" && parts.length === 3) return { status: 200, body: await modelLineage(store, parts[2]!, { reduce: parseReduction(url.searchParams.get("reduce") ?? "last", "reduce") }) };
    return { status: 404, body: { error: "not found" } };
  } catch (error) {
    if (error instanceof GpuDagError) return { status: 400, body: { error: error.message } };
    throw error;
  }
}

async function compare(store: Store, url: URL): Promise<ApiAnswer> {
  const refs = url.searchParams.getAll("ref").filter(Boolean);
  if (refs.length < 2) return { status: 400, body: { error: "compare needs at least two refs (runs, run:step, or models)" } };
  if (refs.length > MAX_REFS) return { status: 400, body: { error: `compare takes at most ${MAX_REFS} refs` } };
  const comparison = await compareRefs(store, refs, { reduce: parseReduction(url.searchParams.get("reduce") ?? "last", "reduce") });
  // Series only where a ref is one run (or a step of one): a model's evaluations have no one run.
  const series = await Promise.all(
    comparison.refs.map(async (ref) => {
      if ((ref.kind !== "run" && ref.kind !== "step") || ref.id === undefined) return [];
      const step = ref.kind === "step" ? splitStepRef(ref.ref)?.step : undefined;
      return (await metricSeries(store, ref.id, step !== undefined ? { step } : {}).catch(() => ({ series: [] }))).series;
    }),
  );
  return { status: 200, body: { ...comparison, series } };
}

async function recovery(store: Store, url: URL): Promise<ApiAnswer> {
  const baseline = list(url.searchParams.get("baseline") ?? "");
  const candidates = url.searchParams
    .getAll("candidate")
    .map(list)
    .filter((c) => c.length > 0);
  if (baseline.length === 0) return { status: 400, body: { error: "a recovery report needs a baseline ref (a run, run:step or model)" } };
  if (candidates.length === 0) return { status: 400, body: { error: "a recovery report needs at least one candidate ref" } };
  if (baseline.length + candidates.flat().length > MAX_REFS) return { status: 400, body: { error: `a recovery report takes at most ${MAX_REFS} refs` } };
  const metrics = url.searchParams.getAll("metric").flatMap(list);
  const report = await recoveryReport(store, { baseline, candidates, reduce: parseReduction(url.searchParams.get("reduce") ?? "last", "reduce"), ...(metrics.length ? { metrics } : {}) });
  return { status: 200, body: report };
}

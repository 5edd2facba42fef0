/**
 * `gpu-dag report recovery`: the recovery report (model-card table) of candidates against a
 * baseline, as markdown, CSV, HTML or JSON, on stdout or into a file.
 *
 * @module
 */
import { writeFile } from "node:fs/promises";
import { CliUsageError, ExitCode } from "../cli-error.js";
import { type CliContext, note, openStore, out } from "../context.js";
import { parseList } from "../list-options.js";

/** Options of `report recovery`. */
export interface RecoveryCommandOptions {
  baseline: string;
  candidate: string[];
  format: "markdown" | "csv" | "html" | "json";
  metric: string[];
  scale: string;
  label: string[];
  reduce: string;
  output?: string;
}

/** See the module comment. */
export async function recoveryCommand(context: CliContext, options: RecoveryCommandOptions): Promise<number> {
  const scale = Number(options.scale);
  if (!Number.isFinite(scale) || scale <= 0) throw new CliUsageError(`--scale ${JSON.stringify(options.scale)}: expected a positive number (e.g. 100)`);
  const baseline = parseList([options.baseline]);
  const candidates = options.candidate.map((c) => parseList([c])).filter((c) => c.length > 0);
  if (baseline.length === 0) throw new CliUsageError("--baseline needs a ref (a run, run:step or model)");
  if (candidates.length === 0) throw new CliUsageError("--candidate needs a ref (a run, run:step or model)");
  const [{ recoveryReport }, { formatRecovery }, { parseReduction }] = await Promise.all([
    import("../../results/recovery.js"),
    import("../../results/recovery-format.js"),
    import("../../results/metric-values.js"),
  ]);
  const store = await openStore(context);
  try {
    const [baseLabel, ...candidateLabels] = options.label;
    const report = await recoveryReport(store, {
      baseline,
      candidates,
      metrics: options.metric,
      reduce: parseReduction(options.reduce),
      labels: { ...(baseLabel !== undefined ? { baseline: baseLabel } : {}), candidates: candidateLabels },
    });
    const text = formatRecovery(report, options.format, { scale });
    if (options.output) {
      await writeFile(options.output, text);
      note(`gpu-dag: recovery report (${options.format}) written to ${options.output}`);
    } else out(text);
    return ExitCode.Ok;
  } finally {
    await store.close();
  }
}

/**
 * The recovery report as text: markdown and HTML in the model-card shape
 * (`Category | Benchmark | <base> | <candidate> | Recovery`, one Average row per section, then the
 * reproduction commands), CSV (one line per row), JSON (the report as data).
 *
 * @module
 */
import { QueryError } from "../errors.js";
import type { RecoveryReport, RecoveryRow, SampleStat } from "./recovery.js";
import { csvLine, escapeHtml, formatNumber, htmlTable, markdownCell, markdownTable, stripControl } from "./render.js";

/** Formats of the report. */
export const RECOVERY_FORMATS = ["markdown", "csv", "html", "json"] as const;
/** One of {@link RECOVERY_FORMATS}. */
export type RecoveryFormat = (typeof RECOVERY_FORMATS)[number];

/** Display options. */
export interface RecoveryFormatOptions {
  /** Scores are multiplied by this for display (e.g. 100 for percentages); recoveries do not change. */
  scale?: number;
}

const NOISE_MARK = "†";

/** The report in `format`. */
export function formatRecovery(report: RecoveryReport, format: RecoveryFormat, options: RecoveryFormatOptions = {}): string {
  switch (format) {
    case "json":
      return JSON.stringify(report, null, 2) + "\n";
    case "csv":
      return recoveryCsv(report);
    case "markdown":
      return recoveryMarkdown(report, options);
    case "html":
      return recoveryHtml(report, options);
    default:
      throw new QueryError("--format", `--format ${JSON.stringify(format)}: expected one of ${RECOVERY_FORMATS.join(", ")}`);
  }
}

/** `96.25%`, or `N/A`. */
export function formatRecoveryValue(recovery: number | null): string {
  return recovery === null ? "N/A" : `${recovery.toFixed(2)}%`;
}

function score(stat: SampleStat | undefined, scale: number): string {
  if (!stat) return "—";
  const m = formatNumber(stat.mean * scale);
  return stat.std !== undefined ? `${m} ± ${formatNumber(stat.std * scale)}` : m;
}

function benchmarkLabel(row: RecoveryRow): string {
  return row.metric ? `${row.benchmark} (${row.metric})` : row.benchmark;
}

/** Header and rows of the model-card table; `summary[i]` marks Average rows (the dashboard shows the same cells). */
export function cardTable(report: RecoveryReport, scale: number): { header: string[]; rows: string[][]; summary: boolean[] } {
  const header = ["Category", "Benchmark", report.baseline.label, ...report.candidates.flatMap((c) => (report.candidates.length > 1 ? [c.label, `Recovery (${c.label})`] : [c.label, "Recovery"]))];
  const rows: string[][] = [];
  const summary: boolean[] = [];
  for (const section of report.sections) {
    section.rows.forEach((row, i) => {
      rows.push([
        i === 0 ? section.category : "",
        benchmarkLabel(row),
        score(row.baseline, scale),
        ...row.candidates.flatMap((c) => [score(c.stat, scale), formatRecoveryValue(c.recovery) + (c.withinNoise ? ` ${NOISE_MARK}` : "")]),
      ]);
      summary.push(false);
    });
    const average = section.average;
    rows.push([
      section.rows.length === 0 ? section.category : "",
      "Average",
      average.baseline === undefined ? "—" : formatNumber(average.baseline * scale),
      ...average.candidates.flatMap((c) => [c.value === undefined ? "—" : formatNumber(c.value * scale), formatRecoveryValue(c.recovery)]),
    ]);
    summary.push(true);
  }
  return { header, rows, summary };
}

/** The notes printed under the table (seeds, the recovery rule, noise marks, partial averages, simulated numbers). */
export function notes(report: RecoveryReport): string[] {
  const lines: string[] = [];
  const seeds = report.sections.some((s) => s.rows.some((r) => (r.baseline?.n ?? 0) > 1 || r.candidates.some((c) => (c.stat?.n ?? 0) > 1)));
  if (seeds) lines.push("Scores with ± are the mean ± sample standard deviation over repeated evaluations (seeds).");
  lines.push(
    "Recovery = candidate ÷ baseline × 100, rounded to 2 decimals; Average = avg(candidate) ÷ avg(baseline) over the benchmarks both have. N/A: zero or missing baseline, or no candidate score.",
  );
  if (report.sections.some((s) => s.rows.some((r) => r.candidates.some((c) => c.withinNoise))))
    lines.push(`${NOISE_MARK} above 100 % but within the noise of the seeds (candidate − baseline ≤ √(sd_c² + sd_b²)).`);
  for (const section of report.sections) {
    section.average.candidates.forEach((c, j) => {
      if (c.benchmarks.length < section.rows.length && c.benchmarks.length > 0)
        lines.push(`${section.category}: the Average of ${report.candidates[j]!.label} is over ${c.benchmarks.length} of ${section.rows.length} benchmarks (${c.benchmarks.join(", ")}).`);
    });
  }
  if (report.reduce !== "last") lines.push(`Metrics reported as a series use their ${report.reduce} value.`);
  if ([report.baseline, ...report.candidates].some((s) => s.simulated)) lines.push("SIMULATED: some numbers come from the simulate runtime, not from real tools.");
  return lines;
}

function commands(report: RecoveryReport): string {
  const text = report.reproduction
    .map(
      (r) =>
        `# ${r.side}: ${r.role === "model" ? "made the model" : "evaluation"}, run ${r.runId}${r.runName ? ` (${r.runName})` : ""} step ${r.step}${r.queue ? ` on queue ${r.queue}` : ""}${r.simulated ? " [simulated]" : ""}\n${r.command ?? "# (command not recorded: a cached step)"}`,
    )
    .join("\n");
  // Commands hold job-given text; quoted for the shell already, but never control characters.
  return stripControl(text, "\n");
}

function title(report: RecoveryReport): string {
  return `Recovery of ${report.candidates.map((c) => c.label).join(", ")} against ${report.baseline.label}`;
}

function recoveryMarkdown(report: RecoveryReport, options: RecoveryFormatOptions): string {
  const { header, rows, summary } = cardTable(report, options.scale ?? 1);
  const bold = rows.map((r, i) => (summary[i] ? r.map((c, k) => (k === 0 || c === "" ? c : `**${c}**`)) : r));
  // Labels, benchmark names and commands come from jobs and users: no control character reaches a terminal.
  const text = [
    `## ${markdownCell(title(report))}`,
    "",
    markdownTable(header, bold).trimEnd(),
    "",
    ...notes(report).map((n) => `- ${n}`),
    "",
    "### Reproduction",
    "",
    "```sh",
    commands(report),
    "```",
    "",
  ].join("\n");
  return stripControl(text, "\n");
}

function recoveryHtml(report: RecoveryReport, options: RecoveryFormatOptions): string {
  const { header, rows, summary } = cardTable(report, options.scale ?? 1);
  return [
    `<section class="gpu-dag-recovery">`,
    `<h2>${escapeHtml(title(report))}</h2>`,
    htmlTable(header, rows, { bold: summary }).trimEnd(),
    `<ul>${notes(report)
      .map((n) => `<li>${escapeHtml(n)}</li>`)
      .join("")}</ul>`,
    `<h3>Reproduction</h3>`,
    `<pre><code>${escapeHtml(commands(report))}</code></pre>`,
    `</section>`,
    "",
  ].join("\n");
}

function recoveryCsv(report: RecoveryReport): string {
  const header = [
    "category",
    "benchmark",
    "metric",
    "baseline",
    "baseline_std",
    "baseline_n",
    ...report.candidates.flatMap((_, j) => [`candidate${j + 1}`, `candidate${j + 1}_std`, `candidate${j + 1}_n`, `recovery${j + 1}`, `within_noise${j + 1}`]),
  ];
  const num = (v: number | undefined | null) => (v === undefined || v === null ? "" : String(v));
  // Stable column names; which model each is goes in the JSON format (and the markdown header).
  let text = csvLine(header);
  for (const section of report.sections) {
    for (const row of section.rows) {
      text += csvLine([
        section.category,
        row.benchmark,
        row.metric,
        num(row.baseline?.mean),
        num(row.baseline?.std),
        num(row.baseline?.n),
        ...row.candidates.flatMap((c) => [num(c.stat?.mean), num(c.stat?.std), num(c.stat?.n), c.recovery === null ? "N/A" : String(c.recovery), c.withinNoise ? "true" : "false"]),
      ]);
    }
    text += csvLine([
      section.category,
      "Average",
      "",
      num(section.average.baseline),
      "",
      "",
      ...section.average.candidates.flatMap((c) => [num(c.value), "", String(c.benchmarks.length), c.recovery === null ? "N/A" : String(c.recovery), ""]),
    ]);
  }
  return text;
}

/**
 * The recovery page (`#/recovery?baseline=<refs>&candidate=<refs>…[&scale=100]`): the report
 * `gpu-dag report recovery` prints — one row per benchmark and an Average row per category, with
 * the same cells and notes (`cardTable()` / `notes()` of the results layer), and the commands
 * that produced the numbers. A side of several refs (comma-separated) is pooled (seeds).
 *
 * @module
 */
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import type { RecoveryReport } from "../../results/recovery.js";
import { cardTable, notes } from "../../results/recovery-format.js";
import { getJson, hrefWith } from "./api.js";
import { splitRefs } from "./compare-page.js";
import { stripControl } from "./text.js";

/** See the module comment. */
export function RecoveryPage({ baseline, candidates, scale }: { baseline: string; candidates: string[]; scale: number }) {
  const [report, setReport] = useState<RecoveryReport | undefined>();
  const [error, setError] = useState("");
  const [typedBase, setTypedBase] = useState(baseline);
  const [typedCandidates, setTypedCandidates] = useState(candidates.join(" "));
  const [typedScale, setTypedScale] = useState(String(scale));
  const key = [baseline, ...candidates].join("\n");
  useEffect(() => {
    setReport(undefined);
    setError("");
    if (!baseline || candidates.length === 0) return;
    const query = new URLSearchParams([["baseline", baseline], ...candidates.map((c) => ["candidate", c])]);
    getJson<RecoveryReport>(`/api/recovery?${query}`)
      .then(setReport)
      .catch((e: Error) => setError(e.message));
  }, [key]);
  const go = (e: Event) => {
    e.preventDefault();
    location.href = hrefWith("/recovery", { baseline: [typedBase.trim()], candidate: splitRefs(typedCandidates), ...(typedScale && typedScale !== "1" ? { scale: [typedScale] } : {}) });
  };
  const value = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);
  const form = html`<form class="refs" onSubmit=${go}>
    <label>Baseline <input id="recovery-baseline" value=${typedBase} onInput=${value(setTypedBase)} placeholder="run, run:step or model (a,b pools)" /></label>
    <label>Candidates <input id="recovery-candidates" size="40" value=${typedCandidates} onInput=${value(setTypedCandidates)} placeholder="space-separated refs" /></label>
    <label>Scale <input id="recovery-scale" size="4" value=${typedScale} onInput=${value(setTypedScale)} /></label>
    <button type="submit">Report</button></form>`;
  const shell = (body: unknown) => html`<section><h1>Recovery</h1>${form}${body}</section>`;
  if (!baseline || candidates.length === 0) return shell(html`<p class="muted">Give a baseline (the base model's evaluations) and one or more candidates.</p>`);
  if (error) return shell(html`<p role="alert">${stripControl(error)}</p>`);
  if (!report) return shell(html`<p class="muted">loading…</p>`);
  const { header, rows, summary } = cardTable(report, Number.isFinite(scale) && scale > 0 ? scale : 1);
  const reproduction = report.reproduction.map(
    (r) =>
      `# ${r.side}: ${r.role === "model" ? "made the model" : "evaluation"}, run ${r.runId}${r.runName ? ` (${r.runName})` : ""} step ${r.step}${r.simulated ? " [simulated]" : ""}\n${r.command ?? "# (command not recorded: a cached step)"}`,
  );
  return shell(html`
    <h2>Recovery of ${report.candidates.map((c) => c.label).join(", ")} against ${report.baseline.label}</h2>
    <table id="recovery"><thead><tr>${header.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>
      ${rows.map((row, i) => html`<tr class=${summary[i] ? "average" : ""}>${row.map((cell) => html`<td>${cell}</td>`)}</tr>`)}
    </tbody></table>
    <ul class="notes">${notes(report).map((n) => html`<li>${n}</li>`)}</ul>
    <h2>Reproduction</h2>
    <pre class="log">${stripControl(reproduction.join("\n"))}</pre>`);
}

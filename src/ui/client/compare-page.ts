/**
 * The compare page (`#/compare?ref=<ref>&ref=<ref>…`): what `gpu-dag compare` prints — the
 * parameters that differ and every metric side by side with each column's difference to the
 * first — plus a bar chart per metric and the metric series of run and step refs as line charts.
 *
 * @module
 */
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import type { Comparison } from "../../results/compare.js";
import type { MetricSeries } from "../../results/history.js";
import { formatNumber } from "../../results/render.js";
import { getJson, hrefWith } from "./api.js";
import { BarChart, type Line, LineChart } from "./charts.js";
import { stripControl } from "./text.js";

type Answer = Comparison & { series: MetricSeries[][] };

/** A value as `gpu-dag compare` prints it. */
const num = (value: number | undefined, signed = false) => formatNumber(value, { signed });

/** Refs typed in one box: separated by spaces or new lines. */
export const splitRefs = (text: string) => text.split(/\s+/).filter(Boolean);

/** The series lines of each metric, over every ref (a step label when a ref has several steps). */
function seriesByMetric(answer: Answer): Map<string, Line[]> {
  const byMetric = new Map<string, Line[]>();
  answer.series.forEach((list, ref) => {
    const steps = new Set(list.map((s) => s.step));
    for (const s of list) {
      if (s.points.length < 2) continue;
      const label = steps.size > 1 ? `${answer.refs[ref]!.label} · ${s.step}` : answer.refs[ref]!.label;
      byMetric.set(s.metric, [...(byMetric.get(s.metric) ?? []), { label, ref, points: s.points }]);
    }
  });
  return byMetric;
}

/** See the module comment. */
export function ComparePage({ refs }: { refs: string[] }) {
  const [answer, setAnswer] = useState<Answer | undefined>();
  const [error, setError] = useState("");
  const [typed, setTyped] = useState(refs.join(" "));
  const key = refs.join("\n");
  useEffect(() => {
    setAnswer(undefined);
    setError("");
    if (refs.length < 2) return;
    const query = new URLSearchParams(refs.map((r) => ["ref", r]));
    getJson<Answer>(`/api/compare?${query}`)
      .then(setAnswer)
      .catch((e: Error) => setError(e.message));
  }, [key]);
  const go = (e: Event) => {
    e.preventDefault();
    location.href = hrefWith("/compare", { ref: splitRefs(typed) });
  };
  const form = html`<form class="refs" onSubmit=${go}><label>Refs (runs, run:step, models) <input id="compare-refs" size="60" value=${typed} onInput=${(e: Event) => setTyped((e.target as HTMLInputElement).value)} /></label> <button type="submit">Compare</button></form>`;
  if (refs.length < 2) return html`<section><h1>Compare</h1>${form}<p class="muted">Give two refs or more, or select runs on the runs page.</p></section>`;
  if (error) return html`<section><h1>Compare</h1>${form}<p role="alert">${stripControl(error)}</p></section>`;
  if (!answer) return html`<section><h1>Compare</h1>${form}<p class="muted">loading…</p></section>`;
  const labels = answer.refs.map((r) => r.label);
  const lines = seriesByMetric(answer);
  return html`<section>
    <h1>Compare</h1>
    ${form}
    <p class="muted">${answer.refs.map((r) => `${r.label} (${r.kind}${r.id && r.id !== r.label ? ` ${r.id}` : ""}, ${r.evaluations} evaluation${r.evaluations === 1 ? "" : "s"})`).join("  vs  ")}</p>
    <h2>Parameters that differ</h2>
    ${
      answer.params.length === 0
        ? html`<p class="muted">no parameter differs</p>`
        : html`<table id="compare-params"><thead><tr><th>parameter</th>${labels.map((l) => html`<th>${l}</th>`)}</tr></thead><tbody>
        ${answer.params.map((p) => html`<tr data-param=${p.name}><td>${p.name}</td>${p.values.map((v) => html`<td>${v === undefined ? "-" : String(v)}</td>`)}</tr>`)}</tbody></table>`
    }
    <h2>Metrics${answer.reduce !== "last" ? ` (series: ${answer.reduce})` : ""}</h2>
    ${
      answer.metrics.length === 0
        ? html`<p class="muted">no metrics</p>`
        : html`<table id="compare-metrics"><thead><tr><th>metric</th>${labels.map((l, i) => (i === 0 ? html`<th>${l}</th>` : html`<th>${l}</th><th>Δ ${l}</th>`))}</tr></thead><tbody>
        ${answer.metrics.map(
          (m) =>
            html`<tr data-metric=${m.name}><td>${m.name}</td>${m.values.map((v, i) =>
              i === 0 ? html`<td>${num(v)}</td>` : html`<td>${num(v)}</td><td class=${`delta ${(m.deltas[i] ?? 0) > 0 ? "up" : (m.deltas[i] ?? 0) < 0 ? "down" : ""}`}>${num(m.deltas[i], true)}</td>`,
            )}</tr>`,
        )}</tbody></table>`
    }
    <div class="charts">${answer.metrics.map((m) => html`<${BarChart} metric=${m.name} labels=${labels} values=${m.values} />`)}</div>
    <h2>Metric series</h2>
    ${lines.size === 0 ? html`<p class="muted">no metric has a series of two points or more</p>` : html`<div class="charts">${[...lines].map(([metric, l]) => html`<${LineChart} metric=${metric} lines=${l} />`)}</div>`}
  </section>`;
}

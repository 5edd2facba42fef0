/**
 * The runs page: the experiment table of `gpu-dag runs` (name, pipeline, status, tags,
 * parameters, chosen metrics as columns), filtered and sorted by the server over every run of the
 * store (text, `where` terms such as `lr>0.1 recipe=w4a16`, metric columns; sort by any column);
 * runs ticked are compared (`#/compare`) or reported on (`#/recovery`, the first ticked as the
 * baseline). The table shows {@link PAGE} rows at a time, more on request.
 *
 * @module
 */
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { formatNumber } from "../../results/render.js";
import { href, hrefWith, TOKEN } from "./api.js";

/** Rows rendered at first (and added by "show more"). */
export const PAGE = 200;
/** Quiet time after typing before the list is asked for again. */
const TYPING_MS = 300;

interface Row {
  state: string;
  summary: { id: string; name?: string; projectName: string; pipelineName: string; tags: string[]; params: Record<string, unknown>; createdAt: string; startedAt?: number; endedAt?: number };
  metrics: Record<string, number | undefined>;
}
interface Filters {
  q: string;
  where: string;
  metrics: string;
}

/** The list as the server answers it for `filters` and `sort`. */
async function fetchRuns(filters: Filters, sort: string): Promise<{ runs: Row[]; matched: number; total: number }> {
  const params = new URLSearchParams();
  if (filters.q.trim()) params.set("q", filters.q.trim());
  for (const term of filters.where.split(/\s+/).filter(Boolean)) params.append("where", term);
  if (filters.metrics.trim()) params.set("metric", filters.metrics);
  if (sort !== "-created") params.set("sort", sort);
  const response = await fetch(`/api/runs${params.size ? `?${params}` : ""}`, { headers: { "x-gpu-dag-token": TOKEN } });
  const body = (await response.json().catch(() => ({}))) as { runs: Row[]; matched: number; total: number; error?: string };
  if (!response.ok) throw new Error(body.error ?? `${response.status}`);
  return body;
}

const metricNames = (text: string): string[] =>
  text
    .split(",")
    .map((m) => m.trim())
    .filter(Boolean);

/** See the module comment. */
export function RunsPage() {
  const [answer, setAnswer] = useState<{ runs: Row[]; matched: number; total: number } | undefined>();
  const [error, setError] = useState("");
  const [problem, setProblem] = useState("");
  const [typed, setTyped] = useState<Filters>({ q: "", where: "", metrics: "" });
  const [filters, setFilters] = useState<Filters>(typed);
  const [sort, setSort] = useState("-created");
  const [picked, setPicked] = useState<string[]>([]);
  const [limit, setLimit] = useState(PAGE);
  useEffect(() => {
    const timer = setTimeout(() => setFilters(typed), TYPING_MS);
    return () => clearTimeout(timer);
  }, [typed]);
  useEffect(() => {
    let live = true;
    const load = () =>
      fetchRuns(filters, sort)
        .then((r) => {
          if (!live) return;
          setAnswer(r);
          setProblem("");
          setError("");
        })
        // A bad filter (a where term without an operator) is said next to the filters; the last table stays.
        .catch((e: Error) => live && (answer ? setProblem(e.message) : setError(e.message)));
    load();
    const timer = setInterval(load, 2000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [filters, sort]);
  if (error) return html`<p role="alert">${error}</p>`;
  if (!answer) return html`<p class="muted">loading…</p>`;
  const rows = answer.runs;
  const metrics = metricNames(filters.metrics);
  const toggle = (id: string) => setPicked(picked.includes(id) ? picked.filter((p) => p !== id) : [...picked, id]);
  const header = (key: string, label: string) => {
    const current = sort === key || sort === `-${key}`;
    const desc = sort === `-${key}`;
    const next = () => setSort(current && !desc ? `-${key}` : key);
    return html`<th tabindex="0" aria-sort=${current ? (desc ? "descending" : "ascending") : "none"} onClick=${next} onKeyDown=${(e: KeyboardEvent) => e.key === "Enter" && next()}>${label}${current ? (desc ? " ▾" : " ▴") : ""}</th>`;
  };
  const input = (key: keyof Filters, label: string, placeholder: string) =>
    html`<label>${label} <input id=${`filter-${key}`} value=${typed[key]} onInput=${(e: Event) => setTyped({ ...typed, [key]: (e.target as HTMLInputElement).value })} placeholder=${placeholder} /></label> `;
  return html`<section>
    <h1>Runs</h1>
    <div class="filters">
      ${input("q", "Filter", "name, pipeline, tag, status")}
      ${input("where", "Where", "lr>0.1 recipe=w4a16")}
      ${input("metrics", "Metrics", "openllm/average, loss")}
      <span class="muted" id="runs-count">${rows.length} of ${answer.matched} matching${answer.matched > rows.length ? ` (the first ${rows.length} sent)` : ""}; ${answer.total} runs in the store</span>
      ${problem ? html`<p role="alert" id="filter-problem">${problem}</p>` : null}
    </div>
    <div class="actions">
      <button id="compare-selected" disabled=${picked.length < 2} onClick=${() => (location.href = hrefWith("/compare", { ref: picked }))}>Compare ${picked.length || ""} selected</button>
      <button id="recovery-selected" disabled=${picked.length < 2} onClick=${() => (location.href = hrefWith("/recovery", { baseline: picked.slice(0, 1), candidate: picked.slice(1) }))}>Recovery (first ticked = baseline)</button>
    </div>
    <table id="runs">
      <thead><tr><th aria-label="select"></th>${header("created", "created")}<th>run</th>${header("name", "name")}${header("pipeline", "pipeline")}${header("status", "status")}<th>tags</th><th>parameters</th>${metrics.map((m) => header(`metric.${m}`, m))}</tr></thead>
      <tbody>${rows.slice(0, limit).map(
        (r) => html`<tr data-run=${r.summary.id}>
          <td><input type="checkbox" aria-label=${`select ${r.summary.id}`} checked=${picked.includes(r.summary.id)} onChange=${() => toggle(r.summary.id)} /></td>
          <td>${new Date(r.summary.createdAt).toLocaleString()}</td>
          <td><a href=${href(`/run/${encodeURIComponent(r.summary.id)}`)}>${r.summary.id}</a></td>
          <td>${r.summary.name ?? ""}</td>
          <td>${r.summary.projectName}/${r.summary.pipelineName}</td>
          <td><span class=${`badge st-${r.state}`}>${r.state}</span></td>
          <td>${r.summary.tags.join(", ")}</td>
          <td class="muted">${Object.entries(r.summary.params)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(" ")}</td>
          ${metrics.map((m) => html`<td class="metric" data-metric=${m}>${formatNumber(r.metrics?.[m])}</td>`)}
        </tr>`,
      )}</tbody>
    </table>
    ${rows.length > limit ? html`<p><button id="more" onClick=${() => setLimit(limit + PAGE)}>show ${Math.min(PAGE, rows.length - limit)} more (${rows.length - limit} not shown)</button></p>` : null}
  </section>`;
}

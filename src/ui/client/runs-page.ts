/**
 * The runs page: the experiment table (name, pipeline, status, tags, parameters), with a text
 * filter and sorting by any column; runs ticked are compared (`#/compare`) or reported on
 * (`#/recovery`, the first ticked as the baseline). The table shows {@link PAGE} rows at a time
 * (a store of thousands of runs renders at once), more on request.
 *
 * @module
 */
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { getJson, href, hrefWith } from "./api.js";

/** Rows rendered at first (and added by "show more"). */
export const PAGE = 200;

interface Row {
  state: string;
  summary: { id: string; name?: string; projectName: string; pipelineName: string; tags: string[]; params: Record<string, unknown>; createdAt: string; startedAt?: number; endedAt?: number };
}

type Key = "created" | "name" | "pipeline" | "status";
const value = (row: Row, key: Key): string => (key === "created" ? row.summary.createdAt : key === "name" ? (row.summary.name ?? "") : key === "pipeline" ? row.summary.pipelineName : row.state);

/** See the module comment. */
export function RunsPage() {
  const [rows, setRows] = useState<Row[] | undefined>();
  const [total, setTotal] = useState(0);
  const [error, setError] = useState("");
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<{ key: Key; desc: boolean }>({ key: "created", desc: true });
  const [picked, setPicked] = useState<string[]>([]);
  const [limit, setLimit] = useState(PAGE);
  useEffect(() => {
    const load = () =>
      getJson<{ runs: Row[]; total: number }>("/api/runs")
        .then((r) => {
          setRows(r.runs);
          setTotal(r.total);
        })
        .catch((e: Error) => setError(e.message));
    load();
    const timer = setInterval(load, 2000);
    return () => clearInterval(timer);
  }, []);
  if (error) return html`<p role="alert">${error}</p>`;
  if (!rows) return html`<p class="muted">loading…</p>`;
  const needle = filter.toLowerCase();
  const shown = rows
    .filter((r) => !needle || [r.summary.id, r.summary.name ?? "", r.summary.pipelineName, r.state, ...r.summary.tags].some((v) => v.toLowerCase().includes(needle)))
    .sort((a, b) => (sort.desc ? -1 : 1) * value(a, sort.key).localeCompare(value(b, sort.key)));
  const toggle = (id: string) => setPicked(picked.includes(id) ? picked.filter((p) => p !== id) : [...picked, id]);
  const header = (key: Key, label: string) =>
    html`<th tabindex="0" aria-sort=${sort.key === key ? (sort.desc ? "descending" : "ascending") : "none"} onClick=${() => setSort({ key, desc: sort.key === key ? !sort.desc : false })} onKeyDown=${(e: KeyboardEvent) => e.key === "Enter" && setSort({ key, desc: sort.key === key ? !sort.desc : false })}>${label}${sort.key === key ? (sort.desc ? " ▾" : " ▴") : ""}</th>`;
  return html`<section>
    <h1>Runs</h1>
    <div class="filters"><label>Filter <input value=${filter} onInput=${(e: Event) => setFilter((e.target as HTMLInputElement).value)} placeholder="name, pipeline, tag, status" /></label> <span class="muted" id="runs-count">${shown.length} of ${rows.length}${total > rows.length ? ` (the newest ${rows.length} of ${total} runs)` : ""}</span></div>
    <div class="actions">
      <button id="compare-selected" disabled=${picked.length < 2} onClick=${() => (location.href = hrefWith("/compare", { ref: picked }))}>Compare ${picked.length || ""} selected</button>
      <button id="recovery-selected" disabled=${picked.length < 2} onClick=${() => (location.href = hrefWith("/recovery", { baseline: picked.slice(0, 1), candidate: picked.slice(1) }))}>Recovery (first ticked = baseline)</button>
    </div>
    <table id="runs">
      <thead><tr><th aria-label="select"></th>${header("created", "created")}<th>run</th>${header("name", "name")}${header("pipeline", "pipeline")}${header("status", "status")}<th>tags</th><th>parameters</th></tr></thead>
      <tbody>${shown.slice(0, limit).map(
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
        </tr>`,
      )}</tbody>
    </table>
    ${shown.length > limit ? html`<p><button id="more" onClick=${() => setLimit(limit + PAGE)}>show ${Math.min(PAGE, shown.length - limit)} more (${shown.length - limit} not shown)</button></p>` : null}
  </section>`;
}

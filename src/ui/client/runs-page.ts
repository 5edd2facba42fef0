/**
 * The runs page: the experiment table (name, pipeline, status, tags, parameters), with a text
 * filter and sorting by any column.
 *
 * @module
 */
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { getJson, href } from "./api.js";

interface Row {
  state: string;
  summary: { id: string; name?: string; projectName: string; pipelineName: string; tags: string[]; params: Record<string, unknown>; createdAt: string; startedAt?: number; endedAt?: number };
}

type Key = "created" | "name" | "pipeline" | "status";
const value = (row: Row, key: Key): string => (key === "created" ? row.summary.createdAt : key === "name" ? (row.summary.name ?? "") : key === "pipeline" ? row.summary.pipelineName : row.state);

/** See the module comment. */
export function RunsPage() {
  const [rows, setRows] = useState<Row[] | undefined>();
  const [error, setError] = useState("");
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<{ key: Key; desc: boolean }>({ key: "created", desc: true });
  useEffect(() => {
    const load = () =>
      getJson<{ runs: Row[] }>("/api/runs")
        .then((r) => setRows(r.runs))
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
  const header = (key: Key, label: string) =>
    html`<th tabindex="0" aria-sort=${sort.key === key ? (sort.desc ? "descending" : "ascending") : "none"} onClick=${() => setSort({ key, desc: sort.key === key ? !sort.desc : false })} onKeyDown=${(e: KeyboardEvent) => e.key === "Enter" && setSort({ key, desc: sort.key === key ? !sort.desc : false })}>${label}${sort.key === key ? (sort.desc ? " ▾" : " ▴") : ""}</th>`;
  return html`<section>
    <h1>Runs</h1>
    <div class="filters"><label>Filter <input value=${filter} onInput=${(e: Event) => setFilter((e.target as HTMLInputElement).value)} placeholder="name, pipeline, tag, status" /></label> <span class="muted">${shown.length} of ${rows.length}</span></div>
    <table id="runs">
      <thead><tr>${header("created", "created")}<th>run</th>${header("name", "name")}${header("pipeline", "pipeline")}${header("status", "status")}<th>tags</th><th>parameters</th></tr></thead>
      <tbody>${shown.map(
        (r) => html`<tr data-run=${r.summary.id}>
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
  </section>`;
}

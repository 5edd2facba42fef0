/**
 * The models page (`#/models`, `#/models/<id>`): the registry `gpu-dag models` lists — each model
 * with the run and step that made it, what it was made from and how many evaluations measured it —
 * and one model's lineage (`gpu-dag models show`): producer task, recipe and command, parent, every
 * evaluation with its metrics, and its files.
 *
 * @module
 */
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { shellJoin } from "../../args/shell-quote.js";
import type { ModelLineage, ModelRow } from "../../results/lineage.js";
import { formatNumber } from "../../results/render.js";
import { getJson, href, hrefWith } from "./api.js";
import { stripControl } from "./text.js";

const modelHref = (id: string) => href(`/models/${encodeURIComponent(id)}`);
const runHref = (id: string) => href(`/run/${encodeURIComponent(id)}`);

/** A model's lineage. */
function Lineage({ id }: { id: string }) {
  const [data, setData] = useState<ModelLineage | undefined>();
  const [error, setError] = useState("");
  useEffect(() => {
    setData(undefined);
    getJson<ModelLineage>(`/api/models/${encodeURIComponent(id)}`)
      .then(setData)
      .catch((e: Error) => setError(e.message));
  }, [id]);
  if (error) return html`<p role="alert">${stripControl(error)}</p>`;
  if (!data) return html`<p class="muted">loading…</p>`;
  const p = data.producer;
  const metricNames = [...new Set(data.evaluations.flatMap((e) => Object.keys(e.metrics)))].sort();
  return html`<article id="lineage" data-model=${data.model.id}>
    <h2>${data.model.name} <code>${data.model.id}</code>${data.model.simulated ? html` <span class="badge st-skipped">simulated</span>` : null}</h2>
    <dl>
      <dt>made by</dt><dd>${data.run ? html`<a href=${runHref(data.run.id)}>${data.run.name ?? data.run.id}</a> (${data.run.projectName}/${data.run.pipelineName})` : data.model.runId} step ${
        p ? html`<a href=${href(`/run/${encodeURIComponent(data.model.runId)}/step/${encodeURIComponent(p.step)}`)}>${p.step}</a>` : data.model.step
      }${p?.task ? ` · task ${p.task.taskName} (${p.task.type})` : ""}${p?.queue ? ` · queue ${p.queue}` : ""}</dd>
      <dt>made from</dt><dd id="lineage-parent">${data.parent ? (data.parent.model ? html`<a href=${modelHref(data.parent.model.id)}>${data.parent.model.name}</a> <code>${data.parent.model.id}</code>` : data.parent.ref) : "-"}</dd>
      ${p?.recipe ? html`<dt>recipe</dt><dd>${p.recipe.config ?? ""}${p.recipe.text ? html`<pre>${stripControl(p.recipe.text)}</pre>` : null}</dd>` : null}
      ${p?.command ? html`<dt>command</dt><dd><pre class="command">${stripControl(shellJoin(p.command))}</pre></dd>` : null}
      <dt>files</dt><dd><code>${data.files.path}</code> on ${data.files.cluster}${data.files.artifacts.length ? ` · ${data.files.artifacts.map((a) => a.name).join(", ")}` : ""}</dd>
    </dl>
    <h3>Evaluations (${data.evaluations.length})</h3>
    ${
      data.evaluations.length === 0
        ? html`<p class="muted">no evaluation measured this model yet</p>`
        : html`<table id="evaluations"><thead><tr><th>run</th><th>step</th><th>when</th>${metricNames.map((m) => html`<th>${m}</th>`)}</tr></thead><tbody>
      ${data.evaluations.map(
        (e) =>
          html`<tr><td><a href=${runHref(e.runId)}>${e.runName ?? e.runId}</a></td><td>${e.step}${e.simulated ? " (simulated)" : ""}</td><td>${new Date(e.at).toLocaleString()}</td>${metricNames.map((m) => html`<td>${formatNumber(e.metrics[m])}</td>`)}</tr>`,
      )}</tbody></table>
      ${data.evaluations.length >= 2 ? html`<p><a href=${hrefWith("/compare", { ref: data.evaluations.map((e) => `${e.runId}:${e.step}`) })}>compare these evaluations</a></p>` : null}`
    }
  </article>`;
}

/** See the module comment. */
export function ModelsPage({ selected }: { selected?: string }) {
  const [rows, setRows] = useState<ModelRow[] | undefined>();
  const [error, setError] = useState("");
  useEffect(() => {
    getJson<{ models: ModelRow[] }>("/api/models")
      .then((r) => setRows(r.models))
      .catch((e: Error) => setError(e.message));
  }, []);
  if (error) return html`<p role="alert">${stripControl(error)}</p>`;
  if (!rows) return html`<p class="muted">loading…</p>`;
  const names = new Map(rows.map((r) => [r.model.id, r.model.name]));
  return html`<section>
    <h1>Models</h1>
    ${selected ? html`<${Lineage} id=${selected} />` : null}
    <h2>Registry</h2>
    <table id="models"><thead><tr><th>model</th><th>id</th><th>made by</th><th>made from</th><th>evaluations</th><th>created</th></tr></thead><tbody>
      ${rows.map(
        (r) => html`<tr data-model=${r.model.id} class=${r.model.id === selected ? "selected" : ""}>
        <td><a href=${modelHref(r.model.id)}>${r.model.name}</a></td><td><code>${r.model.id}</code></td>
        <td>${r.run ? html`<a href=${runHref(r.run.id)}>${r.run.name ?? r.run.id}</a>` : r.model.runId}:${r.model.step}</td>
        <td>${r.parent === undefined ? "-" : names.has(r.parent) ? html`<a href=${modelHref(r.parent)}>${names.get(r.parent)}</a>` : r.parent}</td>
        <td>${r.evaluations}</td><td>${new Date(r.model.createdAt).toLocaleString()}</td></tr>`,
      )}
    </tbody></table>
    ${rows.length === 0 ? html`<p class="muted">no model in the store yet</p>` : null}
  </section>`;
}

/**
 * The run page: the DAG coloured by state, kept live by the server's event stream (one message
 * per journal change), the run's timeline, and the actions cancel / resume / retry failed.
 *
 * @module
 */
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import type { UiRun } from "../run-data.js";
import { events, href, post } from "./api.js";
import { Dag } from "./dag.js";
import { stripControl } from "./text.js";
import { Timeline } from "./timeline.js";

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

/** See the module comment. */
export function RunPage({ runId }: { runId: string }) {
  const [run, setRun] = useState<UiRun | undefined>();
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const source = events(`/api/runs/${encodeURIComponent(runId)}/events`);
    source.onmessage = (e: MessageEvent<string>) => setRun(JSON.parse(e.data) as UiRun);
    return () => source.close();
  }, [runId]);
  if (!run) return html`<p class="muted">loading run ${runId}…</p>`;
  const act = async (action: string) => {
    setBusy(true);
    setMessage(`${action}…`);
    const answer = await post(`/api/runs/${encodeURIComponent(runId)}/${action}`);
    setBusy(false);
    setMessage(stripControl(`${action}: ${answer.ok ? "done" : "refused"} ${answer.body.stdout ?? ""} ${answer.body.stderr ?? answer.body.error ?? ""}`).trim());
  };
  const open = (step: string) => (location.href = href(`/run/${encodeURIComponent(runId)}/step/${encodeURIComponent(step)}`));
  const final = FINAL.has(run.status);
  const started = Math.min(...run.nodes.map(() => run.startedAt));
  return html`<section>
    <h1>${run.name ? `${run.name} · ` : ""}${run.project}/${run.pipeline}</h1>
    <p>run <code>${run.id}</code> <span id="run-status" class=${`badge st-${run.status}`}>${run.status}</span> <span class="muted">${final ? `${((run.endedAt - run.startedAt) / 1000).toFixed(1)} s` : `started ${new Date(started).toLocaleTimeString()}`}</span></p>
    ${run.reason ? html`<p class="muted">${stripControl(run.reason)}</p>` : null}
    <div class="actions">
      <button id="cancel" disabled=${busy || final} onClick=${() => act("cancel")}>Cancel</button>
      <button id="resume" disabled=${busy || !final || run.status === "succeeded"} onClick=${() => act("resume")}>Resume</button>
      <button id="retry" disabled=${busy || !final || run.status === "succeeded"} onClick=${() => act("retry")}>Retry failed</button>
      <span role="status">${message}</span>
    </div>
    <${Dag} nodes=${run.nodes} open=${open} />
    <h2>Timeline</h2>
    <${Timeline} nodes=${run.nodes} startedAt=${run.startedAt} endedAt=${final ? run.endedAt : Date.now()} />
    <h2>Steps</h2>
    <table><thead><tr><th>step</th><th>state</th><th>attempts</th><th>reason</th></tr></thead><tbody>
      ${run.nodes.map(
        (
          n,
        ) => html`<tr><td><a href=${href(`/run/${encodeURIComponent(runId)}/step/${encodeURIComponent(n.name)}`)}>${n.name}</a>${n.elements ? html` <span class="muted">(${n.elements.total} elements)</span>` : null}</td>
          <td><span class=${`badge st-${n.status}`}>${n.status}</span></td><td>${n.attempts}</td><td class="muted">${stripControl(n.reason ?? "")}</td></tr>`,
      )}
    </tbody></table>
  </section>`;
}

/**
 * The step page: its attempts (state, command, parameters, outputs), a map step's elements, and
 * the log of the newest attempt, followed while the job runs, progress lines in their last state.
 *
 * @module
 */
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { getJson, href } from "./api.js";
import { collapseProgress, stripControl } from "./text.js";

interface Attempt {
  attempt: number;
  jobName: string;
  queue: string;
  argv: string[];
  commandLine: string;
  env: Record<string, string>;
  secretEnv: string[];
  parameters: Record<string, unknown>;
  status: string;
  exitCode?: number | null;
  reason?: string;
  outputs?: unknown;
  /** Slurm: what sbatch was given (and a map element's own script). */
  scripts?: { sbatch?: string; element?: string };
}
interface Step {
  name: string;
  status: string;
  reason?: string;
  attempts: Attempt[];
  elements: Array<{ step: string; label: string; status: string }>;
}

const FINAL = new Set(["succeeded", "failed", "cancelled", "skipped", "cached"]);

/** Follows one log stream of an attempt; returns its text so far. */
function useLog(runId: string, step: string, attempt: number | undefined, stream: string, live: boolean): string {
  const [text, setText] = useState("");
  useEffect(() => {
    setText("");
    if (attempt === undefined) return;
    let offset = 0;
    let stopped = false;
    let raw = "";
    const poll = async () => {
      while (!stopped) {
        const slice = await getJson<{ text: string; next: number }>(`/api/runs/${encodeURIComponent(runId)}/log`, { step, attempt, stream, offset }).catch(() => undefined);
        if (slice && slice.next > offset) {
          offset = slice.next;
          raw += slice.text;
          setText(collapseProgress(stripControl(raw)));
          continue;
        }
        if (!live) return;
        await new Promise((r) => setTimeout(r, 300));
      }
    };
    void poll();
    return () => {
      stopped = true;
    };
  }, [runId, step, attempt, stream, live]);
  return text;
}

/** See the module comment. */
export function StepPage({ runId, step }: { runId: string; step: string }) {
  const [data, setData] = useState<Step | undefined>();
  const [error, setError] = useState("");
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      getJson<Step>(`/api/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(step)}`)
        .then((s) => {
          setData(s);
          if (!FINAL.has(s.status)) timer = setTimeout(load, 500);
        })
        .catch((e: Error) => setError(e.message));
    load();
    return () => clearTimeout(timer);
  }, [runId, step]);
  const last = data?.attempts[data.attempts.length - 1];
  const live = data !== undefined && !FINAL.has(data.status);
  const stdout = useLog(runId, step, last?.attempt, "stdout", live);
  const stderr = useLog(runId, step, last?.attempt, "stderr", live);
  if (error) return html`<p role="alert">${error}</p>`;
  if (!data) return html`<p class="muted">loading…</p>`;
  return html`<section>
    <p><a href=${href(`/run/${encodeURIComponent(runId)}`)}>← run ${runId}</a></p>
    <h1>${data.name} <span id="step-status" class=${`badge st-${data.status}`}>${data.status}</span></h1>
    ${data.reason ? html`<p class="muted">${stripControl(data.reason)}</p>` : null}
    ${
      data.elements.length > 0
        ? html`<h2>Elements</h2><ul>${data.elements.map((e) => html`<li><a href=${href(`/run/${encodeURIComponent(runId)}/step/${encodeURIComponent(e.step)}`)}>${e.label}</a> <span class=${`badge st-${e.status}`}>${e.status}</span></li>`)}</ul>`
        : null
    }
    <h2>Attempts</h2>
    ${data.attempts.map(
      (a) => html`<details open=${a === last}><summary>attempt ${a.attempt}: ${a.status}${a.exitCode !== undefined ? ` (exit ${a.exitCode})` : ""} · ${a.queue} · ${a.jobName}</summary>
        <dl><dt>command</dt><dd><pre class="command">${stripControl(a.commandLine)}</pre></dd>
        ${a.scripts?.sbatch !== undefined ? html`<dt>sbatch script</dt><dd><pre class="script sbatch-script">${stripControl(a.scripts.sbatch)}</pre></dd>` : null}
        ${a.scripts?.element !== undefined ? html`<dt>element script</dt><dd><pre class="script element-script">${stripControl(a.scripts.element)}</pre></dd>` : null}
        <dt>environment</dt><dd>${
          Object.keys(a.env).length === 0
            ? html`<span class="muted">none set by the task</span>`
            : html`<table class="env"><tbody>${Object.entries(a.env).map(([k, v]) => html`<tr><td><code>${k}</code></td><td><code>${stripControl(v)}</code></td></tr>`)}</tbody></table>`
        }</dd>
        <dt>secret variables</dt><dd class="secret-env">${a.secretEnv.length === 0 ? html`<span class="muted">none</span>` : html`${a.secretEnv.map((n) => html`<code>${n}</code> `)}<span class="muted">(names only: values are never shown)</span>`}</dd>
        <dt>parameters</dt><dd><code>${JSON.stringify(a.parameters)}</code></dd>
        ${a.reason ? html`<dt>reason</dt><dd>${stripControl(a.reason)}</dd>` : null}
        ${a.outputs ? html`<dt>outputs</dt><dd><pre>${JSON.stringify(a.outputs, null, 2)}</pre></dd>` : null}</dl></details>`,
    )}
    <h2>Log ${live ? html`<span class="muted">(following)</span>` : null}</h2>
    <pre class="log" id="stdout" aria-label="stdout">${stdout}</pre>
    ${stderr ? html`<h3>stderr</h3><pre class="log" id="stderr" aria-label="stderr">${stderr}</pre>` : null}
  </section>`;
}

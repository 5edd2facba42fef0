/**
 * The run-level timeline: one row per step (a map step: one row over its elements), a light bar
 * while it waited in its queue and a bar in its state's colour while it ran, on one time axis from
 * the run's start. A step still going runs up to "now"; one that never started has no bar. Runs
 * of more than {@link LABELLED} steps are drawn as thin rows without labels.
 *
 * @module
 */
import { html } from "htm/preact";
import type { UiNode } from "../run-data.js";

/** Most rows drawn with their step's name. */
export const LABELLED = 100;

/** See the module comment; `now` is the end of the axis for a run still going. */
export function Timeline({ nodes, startedAt, endedAt }: { nodes: UiNode[]; startedAt: number; endedAt: number }) {
  const rows = nodes.filter((n) => n.queuedAt !== undefined || n.startedAt !== undefined).sort((a, b) => (a.queuedAt ?? a.startedAt!) - (b.queuedAt ?? b.startedAt!));
  if (rows.length === 0) return html`<p class="muted">no step has started yet</p>`;
  const labelled = rows.length <= LABELLED;
  const rowH = labelled ? 18 : 4;
  const left = labelled ? 180 : 10;
  const width = 900;
  const top = 18;
  const end = Math.max(endedAt, ...rows.map((n) => n.endedAt ?? 0));
  const total = Math.max(1, end - startedAt);
  const x = (t: number) => left + ((t - startedAt) / total) * (width - left - 10);
  const height = top + rows.length * rowH + 4;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => startedAt + f * total);
  return html`<div class="dag"><svg class="timeline" role="img" aria-label="run timeline" width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`}>
    ${ticks.map((t) => html`<line class="grid" x1=${x(t)} x2=${x(t)} y1=${top - 4} y2=${height} /><text x=${x(t)} y="12" text-anchor="middle">${((t - startedAt) / 1000).toFixed(1)} s</text>`)}
    ${rows.map((n, i) => {
      const y = top + i * rowH;
      const queued = n.queuedAt ?? n.startedAt!;
      const started = n.startedAt;
      const ended = n.endedAt ?? end;
      return html`<g class="bar" data-step=${n.name} data-status=${n.status}>
        ${labelled ? html`<text x="4" y=${y + 13}>${n.name.length > 26 ? `${n.name.slice(0, 25)}…` : n.name}</text>` : null}
        <rect class="st-queued" opacity="0.5" x=${x(queued)} y=${y + 2} width=${Math.max(1, x(started ?? ended) - x(queued))} height=${rowH - 4 || 2} />
        ${started !== undefined ? html`<rect class=${`st-${n.status}`} x=${x(started)} y=${y + 2} width=${Math.max(2, x(ended) - x(started))} height=${rowH - 4 || 2}><title>${`${n.name}: ${n.status}, ${((ended - started) / 1000).toFixed(1)} s`}</title></rect>` : null}
      </g>`;
    })}
  </svg></div>`;
}

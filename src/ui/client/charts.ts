/**
 * Small SVG charts for the compare page, drawn by Preact (labels are text nodes, so a metric or
 * run name with markup in it stays text): a bar chart of one metric across refs, and a line chart
 * of metric series (one line per ref/step).
 *
 * @module
 */
import { html } from "htm/preact";

/** Colours of the refs' bars and lines, in column order. */
export const SERIES_COLOURS = ["#4a90e2", "#e5893a", "#4caf50", "#9c27b0", "#e53935", "#00897b", "#795548", "#607d8b"];

const colour = (i: number) => SERIES_COLOURS[i % SERIES_COLOURS.length]!;

/** A number short enough for an axis or a bar label. */
export function short(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e5 || abs < 1e-3) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

/** One metric's values across the refs, as vertical bars. */
export function BarChart({ metric, labels, values }: { metric: string; labels: string[]; values: Array<number | undefined> }) {
  const width = 60 + labels.length * 70;
  const height = 170;
  const top = 20;
  const bottom = 40;
  const present = values.filter((v): v is number => v !== undefined);
  const max = Math.max(0, ...present);
  const min = Math.min(0, ...present);
  const span = max - min || 1;
  const y = (v: number) => top + ((max - v) / span) * (height - top - bottom);
  return html`<figure class="chart bar-chart" data-metric=${metric}>
    <figcaption>${metric}</figcaption>
    <svg role="img" aria-label=${`${metric} by ref`} width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`}>
      <line class="axis" x1="40" x2=${width - 10} y1=${y(0)} y2=${y(0)} />
      ${values.map((v, i) => {
        const x = 50 + i * 70;
        if (v === undefined) return html`<text class="na" x=${x + 25} y=${y(0) - 4} text-anchor="middle">n/a</text>`;
        const y0 = Math.min(y(v), y(0));
        const h = Math.max(1, Math.abs(y(v) - y(0)));
        return html`<g class="bar" data-ref=${labels[i]} data-value=${v}>
          <rect x=${x} y=${y0} width="50" height=${h} fill=${colour(i)}><title>${`${labels[i]}: ${v}`}</title></rect>
          <text x=${x + 25} y=${y0 - 4} text-anchor="middle">${short(v)}</text>
        </g>`;
      })}
      ${labels.map((l, i) => html`<text class="label" x=${75 + i * 70} y=${height - bottom + 16} text-anchor="middle">${l.length > 10 ? `${l.slice(0, 9)}…` : l}</text>`)}
    </svg>
  </figure>`;
}

/** One line of a {@link LineChart}. */
export interface Line {
  label: string;
  /** Index of its ref (picks the colour). */
  ref: number;
  points: Array<{ iteration: number; value: number }>;
}

/** Series of one metric, one line each; x is the point's iteration. */
export function LineChart({ metric, lines }: { metric: string; lines: Line[] }) {
  const width = 420;
  const height = 200;
  const pad = { left: 50, right: 10, top: 10, bottom: 30 };
  const all = lines.flatMap((l) => l.points.map((p) => ({ x: p.iteration, y: p.value })));
  if (all.length === 0) return null;
  const [x0, x1] = [Math.min(...all.map((p) => p.x)), Math.max(...all.map((p) => p.x))];
  const [y0, y1] = [Math.min(...all.map((p) => p.y)), Math.max(...all.map((p) => p.y))];
  const sx = (x: number) => pad.left + ((x - x0) / (x1 - x0 || 1)) * (width - pad.left - pad.right);
  const sy = (y: number) => pad.top + ((y1 - y) / (y1 - y0 || 1)) * (height - pad.top - pad.bottom);
  return html`<figure class="chart line-chart" data-metric=${metric}>
    <figcaption>${metric}</figcaption>
    <svg role="img" aria-label=${`${metric} series`} width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`}>
      <line class="axis" x1=${pad.left} x2=${width - pad.right} y1=${height - pad.bottom} y2=${height - pad.bottom} />
      <line class="axis" x1=${pad.left} x2=${pad.left} y1=${pad.top} y2=${height - pad.bottom} />
      <text class="tick" x=${pad.left - 4} y=${sy(y1) + 4} text-anchor="end">${short(y1)}</text>
      <text class="tick" x=${pad.left - 4} y=${sy(y0)} text-anchor="end">${short(y0)}</text>
      <text class="tick" x=${pad.left} y=${height - 12}>${short(x0)}</text>
      <text class="tick" x=${width - pad.right} y=${height - 12} text-anchor="end">${short(x1)}</text>
      ${lines.map(
        (l) => html`<g class="series" data-label=${l.label}>
          <polyline fill="none" stroke=${colour(l.ref)} stroke-width="2" points=${l.points.map((p) => `${sx(p.iteration)},${sy(p.value)}`).join(" ")}><title>${l.label}</title></polyline>
          ${l.points.length === 1 ? html`<circle cx=${sx(l.points[0]!.iteration)} cy=${sy(l.points[0]!.value)} r="3" fill=${colour(l.ref)} />` : null}
        </g>`,
      )}
    </svg>
    <ul class="legend">${lines.map((l) => html`<li><svg class="swatch" width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill=${colour(l.ref)} /></svg> ${l.label}</li>`)}</ul>
  </figure>`;
}

/**
 * The run's DAG as SVG: one box per step coloured by its state; a map step is one box with its
 * elements' counts. Laid out by dagre up to {@link DAGRE_MAX} steps, by the lighter
 * `layered-layout.ts` above; the layout is kept while only states change (live updates).
 *
 * @module
 */
import dagre from "@dagrejs/dagre";
import { html } from "htm/preact";
import { useMemo } from "preact/hooks";
import type { UiNode } from "../run-data.js";
import { type Layout, layeredLayout } from "./layered-layout.js";

/** Most steps laid out by dagre (its layout grows much faster than linearly). */
export const DAGRE_MAX = 150;

const W = 170;
const H = 44;

/** A node's second line: a map's counts, or its attempt count when it retried. */
function detail(node: UiNode): string {
  if (node.elements) {
    const c = node.elements.counts;
    const done = (c["succeeded"] ?? 0) + (c["cached"] ?? 0);
    const bad = (c["failed"] ?? 0) + (c["cancelled"] ?? 0) + (c["skipped"] ?? 0);
    return `${done}/${node.elements.total} ok${c["running"] ? ` · ${c["running"]} running` : ""}${bad ? ` · ${bad} not` : ""}`;
  }
  return node.status + (node.attempts > 1 ? ` · try ${node.attempts}` : "");
}

/** Lays the DAG out (see the module comment). */
export function layout(nodes: ReadonlyArray<Pick<UiNode, "name" | "parents">>): Layout {
  if (nodes.length > DAGRE_MAX) return layeredLayout(nodes, { width: W, height: H, nodesep: 20, ranksep: 50, margin: 10 });
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 20, ranksep: 50, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  const known = new Set(nodes.map((n) => n.name));
  for (const n of nodes) g.setNode(n.name, { width: W, height: H });
  for (const n of nodes) for (const p of n.parents) if (known.has(p)) g.setEdge(p, n.name);
  dagre.layout(g);
  const size = g.graph();
  return {
    width: size.width ?? 0,
    height: size.height ?? 0,
    nodes: new Map(nodes.map((n) => [n.name, { x: g.node(n.name).x, y: g.node(n.name).y }])),
    edges: g.edges().map((e: { v: string; w: string }) => ({ v: e.v, w: e.w, points: g.edge(e).points ?? [] })),
  };
}

/** See the module comment; `open` is called with a step's name when its box is chosen. */
export function Dag({ nodes, open }: { nodes: UiNode[]; open: (step: string) => void }) {
  const shape = JSON.stringify(nodes.map((n) => [n.name, n.parents]));
  const laid = useMemo(() => layout(nodes), [shape]);
  return html`<div class="dag"><svg role="img" aria-label="pipeline graph" width=${laid.width} height=${laid.height} viewBox=${`0 0 ${laid.width} ${laid.height}`}>
    ${laid.edges.map((e) => html`<polyline class="edge" points=${e.points.map((p) => `${p.x},${p.y}`).join(" ")} />`)}
    ${nodes.map((n) => {
      const at = laid.nodes.get(n.name)!;
      const choose = () => open(n.name);
      return html`<g class="node" data-step=${n.name} data-status=${n.status} tabindex="0" role="link" aria-label=${`${n.name}: ${n.status}`} transform=${`translate(${at.x - W / 2},${at.y - H / 2})`} onClick=${choose} onKeyDown=${(e: KeyboardEvent) => e.key === "Enter" && choose()}>
        <rect class=${`st-${n.status}`} width=${W} height=${H} rx="6" />
        <text x="8" y="18">${n.name.length > 22 ? `${n.name.slice(0, 21)}…` : n.name}${n.elements ? ` [${n.elements.total}]` : ""}</text>
        <text x="8" y="35">${detail(n)}</text>
      </g>`;
    })}
  </svg></div>`;
}

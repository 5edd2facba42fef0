/**
 * The run's DAG as SVG, laid out by dagre: one box per step coloured by its state; a map step is
 * one box with its elements' counts.
 *
 * @module
 */
import dagre from "@dagrejs/dagre";
import { html } from "htm/preact";
import type { UiNode } from "../run-data.js";

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

/** See the module comment; `open` is called with a step's name when its box is chosen. */
export function Dag({ nodes, open }: { nodes: UiNode[]; open: (step: string) => void }) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 20, ranksep: 50, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  const known = new Set(nodes.map((n) => n.name));
  for (const n of nodes) g.setNode(n.name, { width: W, height: H });
  for (const n of nodes) for (const p of n.parents) if (known.has(p)) g.setEdge(p, n.name);
  dagre.layout(g);
  const size = g.graph();
  return html`<svg role="img" aria-label="pipeline graph" width=${size.width ?? 0} height=${size.height ?? 0} viewBox=${`0 0 ${size.width ?? 0} ${size.height ?? 0}`}>
    ${g.edges().map((e: { v: string; w: string }) => {
      const points = g.edge(e).points ?? [];
      return html`<polyline class="edge" points=${points.map((p: { x: number; y: number }) => `${p.x},${p.y}`).join(" ")} />`;
    })}
    ${nodes.map((n) => {
      const at = g.node(n.name);
      const choose = () => open(n.name);
      return html`<g class="node" data-step=${n.name} data-status=${n.status} tabindex="0" role="link" aria-label=${`${n.name}: ${n.status}`} transform=${`translate(${at.x - W / 2},${at.y - H / 2})`} onClick=${choose} onKeyDown=${(e: KeyboardEvent) => e.key === "Enter" && choose()}>
        <rect class=${`st-${n.status}`} width=${W} height=${H} rx="6" />
        <text x="8" y="18">${n.name.length > 22 ? `${n.name.slice(0, 21)}…` : n.name}${n.elements ? ` [${n.elements.total}]` : ""}</text>
        <text x="8" y="35">${detail(n)}</text>
      </g>`;
    })}
  </svg>`;
}

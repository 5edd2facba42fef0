/**
 * A light layered layout for large DAGs (dagre's takes tens of seconds past a few hundred
 * steps): ranks by longest path from the sources, order within a rank by a few barycenter sweeps
 * (down from parents, up from children), left to right, edges drawn as straight segments between
 * box sides. Linear in nodes + edges per sweep.
 *
 * @module
 */

/** Where a layout put the nodes and edges (centres, as dagre gives them). */
export interface Layout {
  width: number;
  height: number;
  nodes: Map<string, { x: number; y: number }>;
  edges: Array<{ v: string; w: string; points: Array<{ x: number; y: number }> }>;
}

/** Box size and gaps. */
export interface LayoutSizes {
  width: number;
  height: number;
  nodesep: number;
  ranksep: number;
  margin: number;
}

/** Barycenter sweeps (each one down and one up). */
const SWEEPS = 4;

/** Lays out `nodes` (parents not among them are ignored). */
export function layeredLayout(nodes: ReadonlyArray<{ name: string; parents: readonly string[] }>, sizes: LayoutSizes): Layout {
  const known = new Set(nodes.map((n) => n.name));
  const parents = new Map(nodes.map((n) => [n.name, n.parents.filter((p) => known.has(p) && p !== n.name)]));
  const children = new Map(nodes.map((n) => [n.name, [] as string[]]));
  for (const [child, ps] of parents) for (const p of ps) children.get(p)!.push(child);
  // Longest-path ranks, in topological order (Kahn); anything left in a cycle goes last.
  const rank = new Map<string, number>();
  const waiting = new Map([...parents].map(([n, ps]) => [n, ps.length]));
  const queue = nodes.filter((n) => waiting.get(n.name) === 0).map((n) => n.name);
  for (let i = 0; i < queue.length; i++) {
    const n = queue[i]!;
    rank.set(n, Math.max(0, ...parents.get(n)!.map((p) => (rank.get(p) ?? 0) + 1)));
    for (const c of children.get(n)!) {
      waiting.set(c, waiting.get(c)! - 1);
      if (waiting.get(c) === 0) queue.push(c);
    }
  }
  const last = Math.max(0, ...rank.values());
  for (const n of nodes) if (!rank.has(n.name)) rank.set(n.name, last + 1);
  const ranks: string[][] = [];
  for (const n of nodes) {
    const r = rank.get(n.name)!;
    let layer = ranks[r];
    if (!layer) {
      layer = [];
      ranks[r] = layer;
    }
    layer.push(n.name);
  }
  const order = new Map<string, number>();
  const renumber = (layer: string[]) => {
    for (const [i, n] of layer.entries()) order.set(n, i);
  };
  for (const layer of ranks) if (layer) renumber(layer);
  const sweep = (layer: string[], neighbours: Map<string, string[]>) => {
    const centre = new Map(
      layer.map((n) => {
        const ns = neighbours.get(n)!;
        return [n, ns.length ? ns.reduce((s, m) => s + order.get(m)!, 0) / ns.length : order.get(n)!];
      }),
    );
    layer.sort((a, b) => centre.get(a)! - centre.get(b)! || order.get(a)! - order.get(b)!);
    renumber(layer);
  };
  for (let s = 0; s < SWEEPS; s++) {
    for (let r = 1; r < ranks.length; r++) sweep(ranks[r]!, parents);
    for (let r = ranks.length - 2; r >= 0; r--) sweep(ranks[r]!, children);
  }
  const tallest = Math.max(1, ...ranks.map((l) => l.length));
  const column = tallest * (sizes.height + sizes.nodesep) - sizes.nodesep;
  const at = new Map<string, { x: number; y: number }>();
  ranks.forEach((layer, r) => {
    const offset = (column - (layer.length * (sizes.height + sizes.nodesep) - sizes.nodesep)) / 2;
    for (const [i, n] of layer.entries())
      at.set(n, { x: sizes.margin + r * (sizes.width + sizes.ranksep) + sizes.width / 2, y: sizes.margin + offset + i * (sizes.height + sizes.nodesep) + sizes.height / 2 });
  });
  const edges: Layout["edges"] = [];
  for (const [w, ps] of parents)
    for (const v of ps) {
      const [a, b] = [at.get(v)!, at.get(w)!];
      edges.push({
        v,
        w,
        points: [
          { x: a.x + sizes.width / 2, y: a.y },
          { x: b.x - sizes.width / 2, y: b.y },
        ],
      });
    }
  return { width: 2 * sizes.margin + ranks.length * (sizes.width + sizes.ranksep) - sizes.ranksep, height: 2 * sizes.margin + column, nodes: at, edges };
}

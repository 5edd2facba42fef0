/**
 * Graph algorithms over step dependencies (graphlib): topological order, cycles named as paths,
 * and longest remaining path (the scheduling priority).
 *
 * @module
 */
import { alg, Graph } from "@dagrejs/graphlib";

/** Edges `parent → child` over `nodes`. */
export function buildGraph(nodes: readonly string[], parentsOf: (node: string) => readonly string[]): Graph {
  const graph = new Graph({ directed: true });
  for (const node of nodes) graph.setNode(node);
  for (const node of nodes) {
    for (const parent of parentsOf(node)) if (graph.hasNode(parent)) graph.setEdge(parent, node);
  }
  return graph;
}

/**
 * Every cycle as a path that returns to its start, e.g. `["a", "b", "c", "a"]`; one per strongly
 * connected component, self-loops included.
 */
export function findCyclePaths(graph: Graph): string[][] {
  const cycles: string[][] = [];
  for (const node of graph.nodes()) {
    if (graph.hasEdge(node, node)) cycles.push([node, node]);
  }
  for (const component of alg.findCycles(graph)) {
    if (component.length < 2) continue;
    const members = new Set(component);
    const start = [...component].sort()[0]!;
    const path = cyclePathFrom(graph, start, members);
    if (path) cycles.push(path);
  }
  return cycles;
}

function cyclePathFrom(graph: Graph, start: string, members: ReadonlySet<string>): string[] | undefined {
  const stack: string[] = [start];
  const seen = new Set<string>([start]);
  const walk = (node: string): string[] | undefined => {
    for (const next of (graph.successors(node) ?? []).sort()) {
      if (!members.has(next)) continue;
      if (next === start) return [...stack, start];
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(next);
      const found = walk(next);
      if (found) return found;
      stack.pop();
    }
    return undefined;
  };
  return walk(start);
}

/** Topological order, ties broken by insertion order so plans are deterministic. */
export function topologicalOrder(graph: Graph, insertionOrder: readonly string[]): string[] {
  const rank = new Map(insertionOrder.map((n, i) => [n, i]));
  const indegree = new Map(graph.nodes().map((n) => [n, graph.predecessors(n)?.length ?? 0]));
  const ready = graph.nodes().filter((n) => indegree.get(n) === 0);
  const order: string[] = [];
  // Ready nodes kept sorted by insertion rank; a binary heap is not worth it at pipeline sizes.
  ready.sort((a, b) => rank.get(a)! - rank.get(b)!);
  while (ready.length > 0) {
    const node = ready.shift()!;
    order.push(node);
    for (const child of graph.successors(node) ?? []) {
      const left = indegree.get(child)! - 1;
      indegree.set(child, left);
      if (left === 0) insertSorted(ready, child, (n) => rank.get(n)!);
    }
  }
  return order;
}

function insertSorted(list: string[], item: string, key: (n: string) => number): void {
  let lo = 0;
  let hi = list.length;
  const k = key(item);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (key(list[mid]!) < k) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, item);
}

/**
 * Length of the longest path from each node to a sink, weighting each node by `weight`
 * (default 1). Steps on long chains get started first.
 */
export function longestRemainingPath(graph: Graph, order: readonly string[], weight: (n: string) => number = () => 1): Map<string, number> {
  const result = new Map<string, number>();
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    let best = 0;
    for (const child of graph.successors(node) ?? []) best = Math.max(best, result.get(child) ?? 0);
    result.set(node, best + weight(node));
  }
  return result;
}

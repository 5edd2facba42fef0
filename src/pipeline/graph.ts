/**
 * Graph algorithms over step dependencies: topological order, cycles named as paths, and longest
 * remaining path (the scheduling priority).
 *
 * The graph is a graphlib `Graph`. Its bundled algorithms (`alg.topsort`, `alg.findCycles`) are
 * recursive and overflow the stack on a 10,000-step chain (measured), so the algorithms here are
 * iterative and linear in steps + edges.
 *
 * @module
 */
import { Graph } from "@dagrejs/graphlib";

/** Children of `node` (empty for an unknown node). */
function children(graph: Graph, node: string): readonly string[] {
  return graph.successors(node) ?? [];
}

/** Edges `parent → child` over `nodes`; a parent that is not a node is left out. */
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
 * connected component, self-loops included. Given the graph's {@link topologicalOrder}, a graph
 * it orders completely is acyclic and is not searched.
 */
export function findCyclePaths(graph: Graph, order?: readonly string[]): string[][] {
  if (order && order.length === graph.nodeCount()) return [];
  const cycles: string[][] = [];
  for (const node of graph.nodes()) {
    if (graph.hasEdge(node, node)) cycles.push([node, node]);
  }
  for (const component of stronglyConnected(graph)) {
    if (component.length < 2) continue;
    const members = new Set(component);
    const start = [...component].sort()[0]!;
    const path = cyclePathFrom(graph, start, members);
    if (path) cycles.push(path);
  }
  return cycles;
}

/** Tarjan's strongly connected components, iterative; components in completion order. */
function stronglyConnected(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  for (const root of graph.nodes()) {
    if (index.has(root)) continue;
    // Each frame: a node and the position of the next successor to look at.
    const frames: Array<{ node: string; i: number; succ: readonly string[] }> = [{ node: root, i: 0, succ: children(graph, root) }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const succ = frame.succ;
      if (frame.i < succ.length) {
        const child = succ[frame.i++]!;
        if (!index.has(child)) {
          index.set(child, next);
          low.set(child, next++);
          stack.push(child);
          onStack.add(child);
          frames.push({ node: child, i: 0, succ: children(graph, child) });
        } else if (onStack.has(child)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(child)!));
        }
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

function cyclePathFrom(graph: Graph, start: string, members: ReadonlySet<string>): string[] | undefined {
  // Iterative depth-first search inside one strongly connected component (no recursion limit).
  const path: string[] = [start];
  const seen = new Set<string>([start]);
  const pending: string[][] = [[...children(graph, start)].filter((n) => members.has(n)).sort()];
  while (pending.length > 0) {
    const options = pending[pending.length - 1]!;
    const next = options.shift();
    if (next === undefined) {
      pending.pop();
      path.pop();
      continue;
    }
    if (next === start) return [...path, start];
    if (seen.has(next)) continue;
    seen.add(next);
    path.push(next);
    pending.push([...children(graph, next)].filter((n) => members.has(n)).sort());
  }
  return undefined;
}

/** Topological order, ties broken by insertion order so plans are deterministic. */
export function topologicalOrder(graph: Graph, insertionOrder: readonly string[]): string[] {
  // Each node by its rank (insertion order; nodes not in it after, in the graph's order), so the
  // heap below compares numbers, not map look-ups (100,000 steps).
  const rank = new Map<string, number>();
  const byRank: string[] = [];
  const add = (n: string) => {
    if (rank.has(n) || !graph.hasNode(n)) return;
    rank.set(n, byRank.length);
    byRank.push(n);
  };
  for (const n of insertionOrder) add(n);
  for (const n of graph.nodes()) add(n);
  const indegree = new Int32Array(byRank.length);
  for (let i = 0; i < byRank.length; i++) indegree[i] = graph.predecessors(byRank[i]!)?.length ?? 0;
  // A binary min-heap of ranks: O((n + e) log n), where shifting a sorted array was O(n²).
  const heap: number[] = [];
  const push = (r: number) => {
    let i = heap.push(r) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p]! <= r) break;
      heap[i] = heap[p]!;
      i = p;
    }
    heap[i] = r;
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const m = l + 1 < heap.length && heap[l + 1]! < heap[l]! ? l + 1 : l;
        if (heap[m]! >= last) break;
        heap[i] = heap[m]!;
        i = m;
      }
      heap[i] = last;
    }
    return top;
  };
  for (let r = 0; r < byRank.length; r++) if (indegree[r] === 0) push(r);
  const order: string[] = [];
  while (heap.length > 0) {
    const node = byRank[pop()]!;
    order.push(node);
    for (const child of children(graph, node)) {
      const r = rank.get(child)!;
      if (--indegree[r]! === 0) push(r);
    }
  }
  return order;
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
    for (const child of children(graph, node)) best = Math.max(best, result.get(child) ?? 0);
    result.set(node, best + weight(node));
  }
  return result;
}

/**
 * Graph algorithms over step dependencies: topological order, cycles named as paths, and longest
 * remaining path (the scheduling priority).
 *
 * A small adjacency-list graph of our own: graphlib (used here before) spent most of a
 * 10,000-step plan building its edge objects and in its recursive cycle search; everything here is
 * linear in steps + edges and iterative (no recursion depth limit on long chains).
 *
 * @module
 */

/** A directed graph `parent → child` over step names; neighbour lists keep insertion order. */
export class StepGraph {
  readonly #succ = new Map<string, string[]>();
  readonly #pred = new Map<string, string[]>();
  readonly #edges = new Set<string>();

  /** Adds a node (no-op when present). */
  setNode(node: string): void {
    if (this.#succ.has(node)) return;
    this.#succ.set(node, []);
    this.#pred.set(node, []);
  }
  hasNode(node: string): boolean {
    return this.#succ.has(node);
  }
  /** Adds the edge `from → to` once (both nodes must exist). */
  setEdge(from: string, to: string): void {
    const key = `${from}\u0000${to}`;
    if (this.#edges.has(key)) return;
    this.#edges.add(key);
    this.#succ.get(from)!.push(to);
    this.#pred.get(to)!.push(from);
  }
  hasEdge(from: string, to: string): boolean {
    return this.#edges.has(`${from}\u0000${to}`);
  }
  /** Nodes in insertion order. */
  nodes(): string[] {
    return [...this.#succ.keys()];
  }
  /** Children of `node` (a new array), `undefined` for an unknown node. */
  successors(node: string): string[] | undefined {
    const list = this.#succ.get(node);
    return list ? [...list] : undefined;
  }
  /** Parents of `node` (a new array), `undefined` for an unknown node. */
  predecessors(node: string): string[] | undefined {
    const list = this.#pred.get(node);
    return list ? [...list] : undefined;
  }
  /** Children of `node` without copying (for the algorithms below); empty for an unknown node. */
  children(node: string): readonly string[] {
    return this.#succ.get(node) ?? [];
  }
  /** Number of parents of `node`. */
  inDegree(node: string): number {
    return this.#pred.get(node)?.length ?? 0;
  }
}

/** Edges `parent → child` over `nodes`. */
export function buildGraph(nodes: readonly string[], parentsOf: (node: string) => readonly string[]): StepGraph {
  const graph = new StepGraph();
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
export function findCyclePaths(graph: StepGraph): string[][] {
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
function stronglyConnected(graph: StepGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  for (const root of graph.nodes()) {
    if (index.has(root)) continue;
    // Each frame: a node and the position of the next successor to look at.
    const frames: Array<{ node: string; i: number }> = [{ node: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const succ = graph.children(frame.node);
      if (frame.i < succ.length) {
        const child = succ[frame.i++]!;
        if (!index.has(child)) {
          index.set(child, next);
          low.set(child, next++);
          stack.push(child);
          onStack.add(child);
          frames.push({ node: child, i: 0 });
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

function cyclePathFrom(graph: StepGraph, start: string, members: ReadonlySet<string>): string[] | undefined {
  const stack: string[] = [start];
  const seen = new Set<string>([start]);
  const walk = (node: string): string[] | undefined => {
    for (const next of [...graph.children(node)].sort()) {
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
export function topologicalOrder(graph: StepGraph, insertionOrder: readonly string[]): string[] {
  const rank = new Map(insertionOrder.map((n, i) => [n, i]));
  const indegree = new Map(graph.nodes().map((n) => [n, graph.inDegree(n)]));
  // A binary min-heap on insertion rank: O((n + e) log n), where shifting a sorted array was O(n²).
  const heap: string[] = [];
  const key = (n: string) => rank.get(n) ?? Number.MAX_SAFE_INTEGER;
  const push = (n: string) => {
    heap.push(n);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (key(heap[p]!) <= key(heap[i]!)) break;
      [heap[p], heap[i]] = [heap[i]!, heap[p]!];
      i = p;
    }
  };
  const pop = (): string => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && key(heap[l]!) < key(heap[m]!)) m = l;
        if (r < heap.length && key(heap[r]!) < key(heap[m]!)) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    }
    return top;
  };
  for (const n of graph.nodes()) if (indegree.get(n) === 0) push(n);
  const order: string[] = [];
  while (heap.length > 0) {
    const node = pop();
    order.push(node);
    for (const child of graph.children(node)) {
      const left = indegree.get(child)! - 1;
      indegree.set(child, left);
      if (left === 0) push(child);
    }
  }
  return order;
}

/**
 * Length of the longest path from each node to a sink, weighting each node by `weight`
 * (default 1). Steps on long chains get started first.
 */
export function longestRemainingPath(graph: StepGraph, order: readonly string[], weight: (n: string) => number = () => 1): Map<string, number> {
  const result = new Map<string, number>();
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    let best = 0;
    for (const child of graph.children(node)) best = Math.max(best, result.get(child) ?? 0);
    result.set(node, best + weight(node));
  }
  return result;
}

/**
 * Long chains and long cycles: the graph algorithms are iterative (graphlib's own `alg.*` recurse
 * and overflow the stack on a 10,000-step chain).
 */
import { describe, expect, it } from "vitest";
import { buildGraph, findCyclePaths, longestRemainingPath, topologicalOrder } from "../../../src/pipeline/graph.js";

const names = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);

describe("graph algorithms at scale", () => {
  it("orders a 20,000-step chain and gives its head the longest remaining path", () => {
    const nodes = names(20_000);
    const graph = buildGraph(nodes, (n) => (n === "s0" ? [] : [`s${Number(n.slice(1)) - 1}`]));
    expect(findCyclePaths(graph)).toEqual([]);
    const order = topologicalOrder(graph, [...nodes].reverse());
    expect(order).toEqual(nodes);
    expect(longestRemainingPath(graph, order).get("s0")).toBe(20_000);
  });

  it("names a 5,000-step cycle as a path back to its start", () => {
    const nodes = names(5_000);
    const graph = buildGraph(nodes, (n) => [`s${(Number(n.slice(1)) + nodes.length - 1) % nodes.length}`]);
    const [cycle, ...rest] = findCyclePaths(graph);
    expect(rest).toEqual([]);
    expect(cycle).toHaveLength(5_001);
    expect(cycle![0]).toBe(cycle!.at(-1));
  });
});

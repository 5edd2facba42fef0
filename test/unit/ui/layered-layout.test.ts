/**
 * The light layered layout the run page uses past DAGRE_MAX steps: every step placed, no two
 * boxes overlapping, every edge going left to right from a parent's right side to its child's
 * left side, barycenter sweeps uncrossing a crossed pair, and a 1,000-step DAG laid out fast.
 */
import { describe, expect, it } from "vitest";
import { layeredLayout } from "../../../src/ui/client/layered-layout.js";
import { mulberry32 } from "../helpers.js";

const SIZES = { width: 170, height: 44, nodesep: 20, ranksep: 50, margin: 10 };

function randomDag(n: number, seed: number) {
  const random = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => ({ name: `s${i}`, parents: i === 0 ? [] : [...new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => `s${Math.floor(random() * i)}`))] }));
}

describe("layeredLayout", () => {
  it("places every step without overlap, edges left to right between box sides", () => {
    const nodes = randomDag(300, 7);
    const laid = layeredLayout(nodes, SIZES);
    expect(laid.nodes.size).toBe(300);
    const boxes = [...laid.nodes.values()];
    const seen = new Set(boxes.map((b) => `${b.x},${b.y}`));
    expect(seen.size).toBe(300);
    for (const b of boxes) {
      expect(b.x - SIZES.width / 2).toBeGreaterThanOrEqual(0);
      expect(b.y - SIZES.height / 2).toBeGreaterThanOrEqual(0);
      expect(b.x + SIZES.width / 2).toBeLessThanOrEqual(laid.width);
      expect(b.y + SIZES.height / 2).toBeLessThanOrEqual(laid.height);
    }
    // Same column: at least a box height plus the gap apart.
    const byColumn = new Map<number, number[]>();
    for (const b of boxes) byColumn.set(b.x, [...(byColumn.get(b.x) ?? []), b.y]);
    for (const ys of byColumn.values()) {
      ys.sort((a, b) => a - b);
      for (let i = 1; i < ys.length; i++) expect(ys[i]! - ys[i - 1]!).toBeGreaterThanOrEqual(SIZES.height + SIZES.nodesep);
    }
    expect(laid.edges).toHaveLength(nodes.reduce((s, n) => s + n.parents.length, 0));
    for (const e of laid.edges) {
      const [from, to] = [laid.nodes.get(e.v)!, laid.nodes.get(e.w)!];
      expect(to.x).toBeGreaterThan(from.x);
      expect(e.points[0]).toEqual({ x: from.x + SIZES.width / 2, y: from.y });
      expect(e.points[1]).toEqual({ x: to.x - SIZES.width / 2, y: to.y });
    }
  });

  it("uncrosses two chains given in crossed order", () => {
    const laid = layeredLayout(
      [
        { name: "a", parents: [] },
        { name: "b", parents: [] },
        { name: "b2", parents: ["b"] },
        { name: "a2", parents: ["a"] },
      ],
      SIZES,
    );
    expect(Math.sign(laid.nodes.get("a")!.y - laid.nodes.get("b")!.y)).toBe(Math.sign(laid.nodes.get("a2")!.y - laid.nodes.get("b2")!.y));
  });

  it("lays out 1,000 steps in well under a second", () => {
    const nodes = randomDag(1000, 3);
    const t = performance.now();
    const laid = layeredLayout(nodes, SIZES);
    expect(performance.now() - t).toBeLessThan(500);
    expect(laid.nodes.size).toBe(1000);
  });
});

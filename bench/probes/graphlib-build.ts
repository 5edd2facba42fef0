/**
 * Probe (not in \`npm run bench\`): building graphlib's Graph of scale.ts's 100,000-step DAG, with
 * the step names as node ids and with numeric ids, against plain Maps of arrays.
 *
 *   npx tsx bench/probes/graphlib-build.ts
 *
 * @module
 */
import { Graph } from "@dagrejs/graphlib";
import { randomDag } from "../lib/dag.js";

const dag = randomDag(100000, 1, { minMs: 0, maxMs: 0, maxGpus: 0 });
for (const mode of ["names", "index", "names", "index"]) {
  const idx = new Map(dag.map((s, i) => [s.name, String(i)]));
  const id = mode === "names" ? (n: string) => n : (n: string) => idx.get(n)!;
  const t = performance.now();
  const g = new Graph({ directed: true });
  for (const s of dag) g.setNode(id(s.name));
  for (const s of dag) for (const p of s.parents) g.setEdge(id(p), id(s.name));
  const t1 = performance.now();
  let k = 0;
  for (const s of dag) k += g.successors(id(s.name))!.length;
  console.log(mode, "build", (t1 - t).toFixed(0), "succ", (performance.now() - t1).toFixed(0), k);
}
const t = performance.now();
const succ = new Map<string, string[]>();
for (const s of dag) succ.set(s.name, []);
for (const s of dag) for (const p of s.parents) succ.get(p)!.push(s.name);
console.log("plain maps", (performance.now() - t).toFixed(0));

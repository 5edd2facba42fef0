/**
 * Probe (not in \`npm run bench\`): one build + validate + plan of scale.ts's large random DAG per
 * repeat, printed; for A/B runs and \`node --cpu-prof\`.
 *
 *   N=100000 R=1 npx tsx bench/probes/plan-large.ts
 *
 * @module
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pipeline } from "../../src/api/pipeline.js";
import { builtinLocalConfig } from "../../src/config/cluster-config.js";
import { resolveQueue } from "../../src/config/resolve-queue.js";
import { FileStore } from "../../src/store/file-store.js";
import { Task } from "../../src/tasks/custom-task.js";
import { stampCommand } from "../lib/common.js";
import { randomDag } from "../lib/dag.js";

const n = Number(process.env.N ?? 100000);
const dir = mkdtempSync(join(tmpdir(), "gd-plan-large-"));
const store = new FileStore({ home: join(dir, "home") });
const stamp = stampCommand();
const task = new Task({ projectName: "bench", taskName: "stamp", command: [...stamp.argv, "{out}"], parameters: { out: "x" } });
await task.createTask({ store });
const dag = randomDag(n, 1, { minMs: 0, maxMs: 0, maxGpus: 0 });
const config = builtinLocalConfig();
const context = {
  loadTask: async () => task,
  checkQueue: (q: string) => {
    const r = resolveQueue(config, q);
    return "error" in r ? r.error : undefined;
  },
};
for (let r = 0; r < Number(process.env.R ?? 2); r++) {
  const t0 = performance.now();
  const p = new Pipeline({ projectName: "bench", pipelineName: "scale-large" });
  for (const s of dag) p.addStep({ name: s.name, baseTaskId: task.id!, parents: s.parents, executionQueue: "cpu", parameterOverride: { out: join(dir, s.name) } });
  const t1 = performance.now();
  await p.plan(context);
  const t2 = performance.now();
  console.log(`n=${n} build ${(t1 - t0).toFixed(0)} ms plan ${(t2 - t1).toFixed(0)} ms total ${(t2 - t0).toFixed(0)} ms`);
}
await store.close();

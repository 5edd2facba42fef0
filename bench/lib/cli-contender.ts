/**
 * gpu-dag as a user runs it from the shell: a pipeline YAML file (one custom `stamp` task, one
 * step per DAG step) and `gpu-dag run <file>` (bin/gpu-dag.js, the CLI from the sources when
 * there is no build) in a fresh GPU_DAG_HOME, with the built-in local cluster.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, readStamp } from "./common.js";
import { type ContenderRun, type DagStep, nowMs, type Stamps } from "./dag.js";

/** `gpu-dag run` of `dag`; `journal` is the run's journal (for the phase split). */
export async function runGpuDagCli(dag: readonly DagStep[], stamp: readonly string[]): Promise<ContenderRun & { journal: Array<{ type: string; step?: string; at: number }> }> {
  const dir = mkdtempSync(join(tmpdir(), "gd-bench-cli-"));
  const out = join(dir, "out");
  mkdirSync(out);
  try {
    const q = (s: string) => JSON.stringify(s);
    const lines = [
      "projectName: bench",
      "pipelineName: cli",
      "defaults:",
      "  executionQueue: cpu",
      "tasks:",
      "  stamp:",
      "    type: custom",
      "    options:",
      '      parameters: { out: "x", ms: 0 }',
      `      command: [${[...stamp, "{out}", "{ms}"].map(q).join(", ")}]`,
      "steps:",
    ];
    for (const s of dag) {
      lines.push(`  - name: ${s.name}`, "    baseTaskId: stamp");
      if (s.parents.length > 0) lines.push(`    parents: [${s.parents.join(", ")}]`);
      lines.push(`    parameterOverride: { out: ${q(join(out, s.name))}, ms: ${s.ms} }`);
    }
    const file = join(dir, "pipeline.yaml");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const home = join(dir, "home");
    const t0 = nowMs();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [join(REPO, "bin/gpu-dag.js"), "run", file], { cwd: dir, env: { ...process.env, GPU_DAG_HOME: home }, stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      child.on("error", reject);
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`gpu-dag run exited with ${code}: ${err.slice(-2000)}`))));
    });
    const t1 = nowMs();
    const stamps: Stamps = new Map(dag.map((s) => [s.name, readStamp(join(out, s.name))]));
    const starts = [...stamps.values()].map((s) => s.start);
    const first = Math.min(...starts);
    const journal = journalOf(home);
    return { wallMs: t1 - t0, startupMs: first - t0, makespanMs: Math.max(...[...stamps.values()].map((s) => s.end)) - first, stamps, journal };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function journalOf(home: string): Array<{ type: string; step?: string; at: number }> {
  const runs = join(home, "runs");
  const [run] = readdirSync(runs);
  return readFileSync(join(runs, run!, "journal.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string; step?: string; at: number });
}

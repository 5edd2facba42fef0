/**
 * The model registry: `gpu-dag models` (filtered list with parent and evaluation count),
 * `gpu-dag model <id>` (one model's lineage) and `gpu-dag artifacts <run> [step]`.
 *
 * @module
 */
import type { ModelLineage } from "../../results/lineage.js";
import { ExitCode } from "../cli-error.js";
import { type CliContext, openStore, out, printJson } from "../context.js";
import { formatTable, formatTime } from "../format.js";
import { sanitizeForTerminal } from "../sanitize.js";

/** Options of `models`. */
export interface ModelsOptions {
  pipeline?: string;
  run?: string;
  name?: string;
  tag?: string;
  json?: boolean;
}

/** `gpu-dag models`. */
export async function modelsCommand(context: CliContext, options: ModelsOptions): Promise<number> {
  const { listModelRows } = await import("../../results/lineage.js");
  const store = await openStore(context);
  try {
    const rows = await listModelRows(store, {
      ...(options.pipeline !== undefined ? { pipeline: options.pipeline } : {}),
      ...(options.run !== undefined ? { run: options.run } : {}),
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.tag !== undefined ? { tag: options.tag } : {}),
    });
    if (options.json) {
      printJson({
        store: context.home,
        models: rows.map((r) => ({ ...r.model, ...(r.run?.name ? { runName: r.run.name } : {}), ...(r.parent !== undefined ? { parent: r.parent } : {}), evaluations: r.evaluations })),
      });
    } else if (rows.length === 0) {
      out(`no models${Object.values(options).some((v) => typeof v === "string") ? " match" : ""} in ${context.home}\n`);
    } else {
      out(
        formatTable(
          ["ID", "NAME", "RUN", "STEP", "FRAMEWORK", "CLUSTER", "PATH", "EVALS", "PARENT"],
          rows.map((r) => [
            r.model.id,
            r.model.name + (r.model.simulated ? " [simulated]" : ""),
            r.model.runId,
            r.model.step,
            r.model.framework,
            r.model.cluster,
            r.model.path,
            String(r.evaluations),
            r.parent ?? "-",
          ]),
        ),
      );
    }
    return ExitCode.Ok;
  } finally {
    await store.close();
  }
}

/** `gpu-dag model <ref>`. */
export async function modelCommand(context: CliContext, ref: string, options: { json?: boolean }): Promise<number> {
  const { modelLineage } = await import("../../results/lineage.js");
  const store = await openStore(context);
  try {
    const lineage = await modelLineage(store, ref);
    if (options.json) printJson({ store: context.home, ...lineage });
    else out(formatLineage(lineage));
    return ExitCode.Ok;
  } finally {
    await store.close();
  }
}

/** The text of `model`. */
export function formatLineage(lineage: ModelLineage): string {
  const m = lineage.model;
  const clean = (text: string) => sanitizeForTerminal(text).replace(/\n/g, " ");
  const lines = [`model ${m.id}  ${clean(m.name)}${m.simulated ? "  [simulated]" : ""}`, `  framework ${m.framework}, recorded ${formatTime(Date.parse(m.createdAt))}`];
  lines.push("", "files:", `  ${clean(m.path)}  (on cluster ${m.cluster})`);
  for (const a of lineage.files.artifacts) lines.push(`  ${clean(a.path)}  (artifact ${clean(a.name)}, ${a.id})`);
  lines.push("", "produced by:");
  const run = lineage.run;
  lines.push(
    `  run ${m.runId}${run?.name ? ` (${clean(run.name)})` : ""}${run ? `  ${clean(run.projectName)}/${clean(run.pipelineName)}  ${run.status}` : ""}${run?.tags.length ? `  tags ${run.tags.join(",")}` : ""}`,
  );
  const p = lineage.producer;
  lines.push(`  step ${m.step}, attempt ${p?.attempt ?? m.attempt}${p?.queue ? `, queue ${p.queue}` : ""}`);
  if (p?.task) lines.push(`  task ${p.task.type} ${clean(p.task.taskName)} (${p.task.id})`);
  if (p?.recipe?.config) lines.push(`  recipe ${clean(p.recipe.config)}`);
  if (p?.recipe?.text) for (const line of p.recipe.text.trimEnd().split("\n")) lines.push(`    ${clean(line)}`);
  lines.push("", "parent (made from):");
  const parent = lineage.parent;
  if (!parent) lines.push("  -");
  else if (parent.model) lines.push(`  ${parent.model.id}  ${clean(parent.model.name)}  (run ${parent.model.runId} step ${parent.model.step})  ${clean(parent.model.path)}`);
  else lines.push(`  ${clean(parent.ref)}${parent.path ? `  (read from ${clean(parent.path)})` : ""}  (not a store model)`);
  lines.push("", `evaluations (${lineage.evaluations.length}):`);
  if (lineage.evaluations.length === 0) lines.push("  none yet");
  for (const e of lineage.evaluations) {
    lines.push(`  run ${e.runId}${e.runName ? ` (${clean(e.runName)})` : ""} step ${e.step}, ${formatTime(e.at)}${e.simulated ? "  [simulated]" : ""}`);
    for (const [name, value] of Object.entries(e.metrics)) lines.push(`    ${clean(name)} = ${value}`);
  }
  return lines.join("\n") + "\n";
}

/** `gpu-dag artifacts <run> [step]`. */
export async function artifactsCommand(context: CliContext, runRef: string, step: string | undefined, options: { json?: boolean }): Promise<number> {
  const { listArtifacts } = await import("../../results/artifacts.js");
  const store = await openStore(context);
  try {
    const rows = await listArtifacts(store, runRef, step);
    if (options.json) printJson({ store: context.home, artifacts: rows });
    else if (rows.length === 0) out(`no artifacts${step ? ` in step ${step}` : ""} of run ${runRef}\n`);
    else
      out(
        formatTable(
          ["STEP", "KIND", "NAME", "ID", "CLUSTER", "PATH"],
          rows.map((r) => [r.step, r.kind, r.name + (r.simulated ? " [simulated]" : ""), r.id, r.cluster, r.path + (r.fromRunId ? `  (cached from ${r.fromRunId})` : "")]),
        ),
      );
    return ExitCode.Ok;
  } finally {
    await store.close();
  }
}

/**
 * `gpu-dag graph <run|pipeline file>`: the DAG as Mermaid, DOT, or SVG (through Graphviz `dot`).
 * A run is coloured by its steps' states from the journal; a pipeline file is drawn uncoloured.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { PipelineSpec } from "../../pipeline/pipeline-spec.js";
import { CliUsageError, ExitCode } from "../cli-error.js";
import { type CliContext, openStore, out, printJson } from "../context.js";

/** Options of `graph`. */
export interface GraphOptions {
  format: "mermaid" | "dot" | "svg";
  json?: boolean;
}

/** See the module comment. */
export async function graphCommand(context: CliContext, target: string, options: GraphOptions): Promise<number> {
  let spec: PipelineSpec;
  let states: Record<string, string> | undefined;
  let runId: string | undefined;
  if (/\.(ya?ml|json)$/i.test(target) || target.includes("/") || existsSync(target)) {
    const { readPipelineFile } = await import("../pipeline-file.js");
    spec = (await readPipelineFile(target)).toSpec();
  } else {
    const { loadRunView } = await import("../run-view.js");
    const { PipelineSpecSchema } = await import("../../pipeline/pipeline-spec.js");
    const { resolveRunRef } = await import("../run-ref.js");
    runId = await resolveRunRef(context, target);
    const view = await loadRunView(await openStore(context), runId);
    spec = PipelineSpecSchema.parse(view.stored.record.pipeline);
    states = Object.fromEntries(Object.values(view.result.steps).map((s) => [s.name, s.status]));
  }
  let graph: string;
  if (options.format === "mermaid") {
    const { toMermaid } = await import("../../pipeline/mermaid.js");
    graph = toMermaid(spec, states ? { states } : {});
  } else {
    const { toDot } = await import("../../pipeline/dot.js");
    graph = toDot(spec, states ? { states } : {});
    if (options.format === "svg") graph = await renderSvg(graph);
  }
  if (options.json) printJson({ ...(runId ? { runId } : {}), pipelineName: spec.pipelineName, format: options.format, ...(states ? { states } : {}), graph });
  else out(graph);
  return ExitCode.Ok;
}

/** Pipes DOT through `dot -Tsvg`; a clear error when Graphviz is not installed. */
function renderSvg(dot: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env["GPU_DAG_DOT"] ?? "dot", ["-Tsvg"], { stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => stdout.push(b));
    child.stderr.on("data", (b: Buffer) => stderr.push(b));
    child.on("error", (error: NodeJS.ErrnoException) => {
      reject(error.code === "ENOENT" ? new CliUsageError("--format svg needs Graphviz's `dot` on PATH (e.g. `apt-get install graphviz`); --format dot or mermaid work without it") : error);
    });
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(stdout).toString("utf8"));
      else reject(new CliUsageError(`dot -Tsvg exited with code ${code}: ${Buffer.concat(stderr).toString("utf8").trim()}`));
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(dot);
  });
}

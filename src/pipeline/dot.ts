/**
 * Graphviz DOT of a pipeline, optionally coloured by step state (the same palette as the Mermaid
 * diagram). `dot -Tsvg` turns it into a picture.
 *
 * @module
 */

import { drawnParents } from "./drawn-parents.js";
import type { PipelineSpec } from "./pipeline-spec.js";

/** Options of {@link toDot}. */
export interface DotOptions {
  /** Step → state (`succeeded`, `failed`, `running`, …) for colouring. */
  states?: Readonly<Record<string, string>>;
}

const STATE_COLOURS: Readonly<Record<string, { fill: string; stroke: string }>> = {
  succeeded: { fill: "#c8e6c9", stroke: "#2e7d32" },
  cached: { fill: "#e0f2f1", stroke: "#00695c" },
  failed: { fill: "#ffcdd2", stroke: "#c62828" },
  running: { fill: "#fff9c4", stroke: "#f9a825" },
  queued: { fill: "#e3f2fd", stroke: "#1565c0" },
  skipped: { fill: "#eeeeee", stroke: "#9e9e9e" },
  cancelled: { fill: "#eeeeee", stroke: "#616161" },
  pending: { fill: "#ffffff", stroke: "#9e9e9e" },
};

/** `digraph` with one box per step (name, queue, state) and an edge per parent (declared or implied by a placeholder). */
export function toDot(spec: PipelineSpec, options: DotOptions = {}): string {
  const lines = [`digraph ${quote(spec.pipelineName)} {`, "  rankdir=TB;", '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];'];
  for (const step of spec.steps) {
    const state = options.states?.[step.name];
    const colours = state ? STATE_COLOURS[state] : undefined;
    const label = [step.name, step.executionQueue, ...(state ? [state] : [])].join("\\n");
    const attrs = [`label=${quote(label, false)}`, ...(colours ? [`fillcolor="${colours.fill}"`, `color="${colours.stroke}"`] : [])];
    lines.push(`  ${quote(step.name)} [${attrs.join(", ")}];`);
  }
  for (const step of spec.steps) {
    for (const parent of drawnParents(step)) lines.push(`  ${quote(parent)} -> ${quote(step.name)};`);
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** A DOT double-quoted string; `escapeBackslash` false keeps `\n` line breaks in labels. */
function quote(text: string, escapeBackslash = true): string {
  const body = (escapeBackslash ? text.replace(/\\/g, "\\\\") : text).replace(/"/g, '\\"').replace(/\n/g, " ");
  return `"${body}"`;
}

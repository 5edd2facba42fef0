/**
 * Mermaid diagrams of pipelines (the seed draws its DAG this way), optionally coloured by state.
 *
 * @module
 */

import { drawnParents } from "./drawn-parents.js";
import type { PipelineSpec } from "./pipeline-spec.js";

/** Options of {@link toMermaid}. */
export interface MermaidOptions {
  /** Step → state (`succeeded`, `failed`, `running`, `skipped`, `pending`, `cached`) for colouring. */
  states?: Readonly<Record<string, string>>;
  /** Extra text under each step name, e.g. the task name. */
  labels?: Readonly<Record<string, string>>;
}

const STATE_STYLES: Readonly<Record<string, string>> = {
  succeeded: "fill:#c8e6c9,stroke:#2e7d32",
  cached: "fill:#e0f2f1,stroke:#00695c",
  failed: "fill:#ffcdd2,stroke:#c62828",
  running: "fill:#fff9c4,stroke:#f9a825",
  queued: "fill:#e3f2fd,stroke:#1565c0",
  skipped: "fill:#eeeeee,stroke:#9e9e9e",
  cancelled: "fill:#eeeeee,stroke:#616161",
  pending: "fill:#ffffff,stroke:#9e9e9e",
};

/** `graph TD;` with one node per step and an edge per parent (declared or implied by a placeholder). */
export function toMermaid(spec: PipelineSpec, options: MermaidOptions = {}): string {
  const lines = ["graph TD;"];
  for (const step of spec.steps) {
    const label = options.labels?.[step.name] ?? `${step.executionQueue}`;
    lines.push(`    ${id(step.name)}["${escapeLabel(step.name)}<br>${escapeLabel(label)}"];`);
  }
  for (const step of spec.steps) {
    for (const parent of drawnParents(step)) lines.push(`    ${id(parent)} --> ${id(step.name)};`);
  }
  if (options.states) {
    for (const [state, style] of Object.entries(STATE_STYLES)) lines.push(`    classDef ${state} ${style};`);
    for (const step of spec.steps) {
      const state = options.states[step.name];
      if (state && state in STATE_STYLES) lines.push(`    class ${id(step.name)} ${state};`);
    }
  }
  return lines.join("\n") + "\n";
}

/** Mermaid ids may not contain "-" in every renderer; map to a safe id. */
function id(name: string): string {
  return name.replace(/-/g, "_2d_");
}

function escapeLabel(text: string): string {
  return text.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");
}

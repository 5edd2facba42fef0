/**
 * The parents a diagram draws for a step: declared parents plus steps its placeholders refer to.
 * Unlike validation it never throws: a malformed placeholder simply adds no edge.
 *
 * @module
 */
import type { StepSpec } from "./pipeline-spec.js";
import { findPlaceholders, referencedStep } from "./placeholders.js";

/** Declared and placeholder-implied parents of `step`, in first-seen order. */
export function drawnParents(step: Pick<StepSpec, "name" | "parents" | "parameterOverride">): string[] {
  const parents = new Set(step.parents);
  let placeholders: ReturnType<typeof findPlaceholders> = [];
  try {
    placeholders = findPlaceholders(step.parameterOverride);
  } catch {
    // Drawn anyway: validation reports the bad placeholder.
  }
  for (const p of placeholders) {
    const parent = referencedStep(p.ref);
    if (parent && parent !== step.name) parents.add(parent);
  }
  return [...parents];
}

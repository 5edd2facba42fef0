/**
 * References as users type them. A **run ref** is a run id, a unique id prefix, or a run name (the
 * newest run with that name). A **step ref** is `run:step` (a map step's name also means its
 * elements, `step[i]`). A **result ref** (compare, reports) is a run, a step ref, or a model: a
 * store model id (or unique prefix), a model name, or — for a model the store did not make, such
 * as a base model — the path or hub name the evaluations were given; or `tag:<tag>` /
 * `name:<name>`, every run with that tag or name (seeds pooled).
 *
 * Resolution order for a run ref: exact id, exact name, id prefix. An id prefix matching several
 * runs is an error listing them; so is a ref that matches nothing (with close names suggested).
 *
 * @module
 */
import { didYouMean } from "../args/did-you-mean.js";
import { RefError, RunNotFoundError } from "../errors.js";
import type { ModelRecord } from "../store/records.js";
import type { RunSummary } from "../store/run-summary.js";
import { newestFirst } from "./run-summaries.js";

/** How many candidates an ambiguity error lists. */
const LISTED = 8;

/** The run `ref` names among `summaries` (throws `RunNotFoundError`, or {@link RefError} for an ambiguous prefix). */
export function resolveRun(summaries: readonly RunSummary[], ref: string): RunSummary {
  const exact = summaries.find((s) => s.id === ref);
  if (exact) return exact;
  const named = summaries.filter((s) => s.name === ref).sort(newestFirst);
  if (named.length > 0) return named[0]!;
  const prefixed = summaries.filter((s) => s.id.startsWith(ref));
  if (prefixed.length === 1) return prefixed[0]!;
  if (prefixed.length > 1) {
    const shown = prefixed
      .slice(0, LISTED)
      .map((s) => s.id + (s.name ? ` (${s.name})` : ""))
      .join(", ");
    throw new RefError(
      ref,
      `run ref "${ref}" is ambiguous: ${prefixed.length} run ids start with it (${shown}${prefixed.length > LISTED ? ", …" : ""}); give more of the id, or a name`,
      prefixed.map((s) => s.id),
    );
  }
  const names = [...new Set(summaries.flatMap((s) => (s.name ? [s.name] : [])))];
  throw new RunNotFoundError(ref, didYouMean(ref, names));
}

/** A `run:step` ref split in two, or `undefined` when `ref` has no `:`. */
export function splitStepRef(ref: string): { run: string; step: string } | undefined {
  const colon = ref.lastIndexOf(":");
  if (colon <= 0 || colon === ref.length - 1) return undefined;
  return { run: ref.slice(0, colon), step: ref.slice(colon + 1) };
}

/** The step names of `summary` that `step` means: the step itself, or a map step's elements. */
export function matchSteps(summary: RunSummary, step: string): string[] {
  // A map step's own entry (it settled) comes with its elements'.
  return Object.keys(summary.steps).filter((n) => n === step || baseStep(n) === step);
}

/** `gen[3]` → `gen`; other names unchanged. */
export function baseStep(name: string): string {
  const bracket = name.indexOf("[");
  return bracket > 0 && name.endsWith("]") ? name.slice(0, bracket) : name;
}

/** The store model `ref` names: an id, a unique id prefix, or a name (the newest model with it); `undefined` if none. */
export function findModel(models: readonly ModelRecord[], ref: string): ModelRecord | undefined {
  const exact = models.find((m) => m.id === ref);
  if (exact) return exact;
  const named = models.filter((m) => m.name === ref).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  if (named.length > 0) return named[0];
  const prefixed = models.filter((m) => m.id.startsWith(ref));
  if (prefixed.length > 1)
    throw new RefError(
      ref,
      `model ref "${ref}" is ambiguous: ${prefixed.length} model ids start with it (${prefixed
        .slice(0, LISTED)
        .map((m) => `${m.id} (${m.name})`)
        .join(", ")})`,
      prefixed.map((m) => m.id),
    );
  return prefixed[0];
}

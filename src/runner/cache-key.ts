/**
 * Cache keys for `cacheExecutedStep`: two steps with equal keys would run the same job on the
 * same inputs, so the later may reuse the earlier's outputs.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { StepOutputs } from "../store/records.js";

/** What goes into a key. Model ids are left out (they differ per run); paths and metrics stay. */
export interface CacheKeyInput {
  taskType: string;
  options: Readonly<Record<string, unknown>>;
  argv: readonly string[];
  env: Readonly<Record<string, string>>;
  queue: unknown;
  cluster: string;
  parents: ReadonlyArray<{ name: string; outputs: StepOutputs | undefined }>;
}

/** SHA-256 over a canonical JSON of the input. */
export function cacheKey(input: CacheKeyInput): string {
  const parents = input.parents.map((p) => ({
    name: p.name,
    models: p.outputs?.models.map((m) => [m.name, m.path, m.framework]) ?? [],
    artifacts: p.outputs?.artifacts.map((a) => [a.name, a.path]) ?? [],
    metrics: p.outputs?.metrics ?? {},
  }));
  const canonical = canonicalJson({ ...input, parents });
  return createHash("sha256").update(canonical).digest("hex").slice(0, 32);
}

/** JSON with object keys sorted, so equal data gives equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

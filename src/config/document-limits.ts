/**
 * Limits on every YAML or JSON document gpu-dag reads from a user (pipeline files, cluster
 * configs, task configs, outputs manifests), so a hostile or broken file gives a located error
 * instead of exhausting memory or the stack:
 *
 * - size: at most {@link DocumentLimits.maxBytes} (10 MiB) per document;
 * - nesting: at most {@link DocumentLimits.maxDepth} (64) levels of maps and lists;
 * - aliases (YAML): at most {@link DocumentLimits.maxAliasCount} (100) nodes reached through
 *   aliases — a "billion laughs" alias bomb stops there.
 *
 * Real pipelines, configs and manifests are far inside these bounds.
 *
 * @module
 */
import { statSync } from "node:fs";
import { isAlias, isCollection, isPair, type Node } from "yaml";

/** The limits; see the module comment. */
export const DocumentLimits = {
  /** Bytes of one document (UTF-8). */
  maxBytes: 10 * 1024 * 1024,
  /** Levels of nested maps and lists. */
  maxDepth: 64,
  /** Nodes reached through YAML aliases (the `yaml` package's `maxAliasCount`). */
  maxAliasCount: 100,
} as const;

/** `the document is 11.0 MiB, more than the limit of 10 MiB`, or `undefined` when within it. */
export function sizeProblem(bytes: number): string | undefined {
  if (bytes <= DocumentLimits.maxBytes) return undefined;
  return `the document is ${(bytes / 2 ** 20).toFixed(1)} MiB, more than the limit of ${DocumentLimits.maxBytes / 2 ** 20} MiB`;
}

/**
 * {@link sizeProblem} for a file, from its size on disk, so a huge file is refused before it is
 * read into memory. `undefined` also when the file cannot be stat'ed (reading it will say why).
 */
export function fileSizeProblem(path: string): string | undefined {
  try {
    return sizeProblem(statSync(path).size);
  } catch {
    return undefined;
  }
}

/** The message of a nesting problem. */
export const DEPTH_PROBLEM = `nested deeper than ${DocumentLimits.maxDepth} levels (the limit)`;

/** The message of an alias problem. */
export const ALIAS_PROBLEM = `aliases expand to more than ${DocumentLimits.maxAliasCount} nodes (the limit): an alias bomb ("billion laughs")?`;

/**
 * The first YAML node nested deeper than the limit, or `undefined`. Walks the parsed tree without
 * recursion, so a deep document cannot overflow the stack here either.
 */
export function tooDeepYamlNode(root: Node | null): Node | undefined {
  if (!root) return undefined;
  const stack: Array<{ node: unknown; depth: number }> = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (!isCollection(node)) continue;
    if (depth + 1 > DocumentLimits.maxDepth) return node;
    for (const item of node.items) {
      if (isPair(item)) {
        stack.push({ node: item.value, depth: depth + 1 });
        stack.push({ node: item.key, depth: depth + 1 });
      } else stack.push({ node: item, depth: depth + 1 });
    }
  }
  return undefined;
}

/** The first alias node of a YAML tree (where an alias problem is reported), or `undefined`. */
export function firstYamlAlias(root: Node | null): Node | undefined {
  const stack: unknown[] = root ? [root] : [];
  let first: Node | undefined;
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) {
      if (!first || (node.range?.[0] ?? Infinity) < (first.range?.[0] ?? Infinity)) first = node;
    } else if (isCollection(node)) {
      for (const item of node.items) {
        if (isPair(item)) stack.push(item.key, item.value);
        else stack.push(item);
      }
    }
  }
  return first;
}

/** True when a plain JS value (parsed JSON) nests deeper than the limit. No recursion. */
export function isTooDeep(value: unknown): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth + 1 > DocumentLimits.maxDepth) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ value: child, depth: depth + 1 });
  }
  return false;
}

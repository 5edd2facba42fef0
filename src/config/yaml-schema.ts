/**
 * YAML text → zod-validated data, with errors that name the file, the line and the field.
 *
 * @module
 */
import { isMap, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors.js";
import { issueMessage } from "./unknown-keys.js";

/**
 * Parses `text` as YAML and validates it with `schema`. Throws one {@link ConfigError} listing every
 * problem as `file:line: field: message`.
 */
export function parseYamlWith<S extends z.ZodType>(schema: S, text: string, file: string): z.output<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    // With prettyErrors off the parser leaves linePos unset; the offset still gives the line.
    const line = first.linePos?.[0].line ?? (first.pos[0] >= 0 ? lineCounter.linePos(first.pos[0]).line : undefined);
    throw new ConfigError(`${file}${line ? `:${line}` : ""}: invalid YAML: ${first.message.split("\n")[0]}`, {
      file,
      ...(line ? { line } : {}),
    });
  }
  return validateWith(schema, doc.toJS(), file, (path) => lineOf(doc.contents, path, lineCounter));
}

/**
 * Validates already-parsed data. `lineOf` maps an issue path to a line when the caller knows it.
 */
export function validateWith<S extends z.ZodType>(
  schema: S,
  data: unknown,
  file: string,
  lineOf: (path: readonly PropertyKey[]) => number | undefined = () => undefined,
): z.output<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => {
    const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0] ?? ""] : issue.path;
    const field = path.map(String).join(".") || "(root)";
    const line = lineOf(path);
    return { field, line, text: `${file}${line ? `:${line}` : ""}: ${field}: ${issueMessage(schema, data, issue)}` };
  });
  const first = issues[0]!;
  throw new ConfigError(issues.map((i) => i.text).join("\n"), {
    file,
    field: first.field,
    ...(first.line ? { line: first.line } : {}),
  });
}

function lineOf(root: Node | null, path: readonly PropertyKey[], counter: LineCounter): number | undefined {
  let node: unknown = root;
  let offset: number | undefined = (root as Node | null)?.range?.[0];
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === String(key));
      if (!pair) break;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === "number") {
      node = node.items[key];
      offset = (node as Node | undefined)?.range?.[0] ?? offset;
    } else break;
  }
  return offset === undefined ? undefined : counter.linePos(offset).line;
}

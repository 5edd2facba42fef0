/**
 * YAML text → zod-validated data, with errors that name the file, the line, the field and the
 * value. Every YAML (and JSON) document a user gives gpu-dag comes through here, so the limits of
 * `./document-limits.ts` (size, nesting, aliases) hold for all of them.
 *
 * @module
 */
import { isMap, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors.js";
import { ALIAS_PROBLEM, DEPTH_PROBLEM, DocumentLimits, firstYamlAlias, sizeProblem, tooDeepYamlNode } from "./document-limits.js";
import { issueText } from "./issue-text.js";

/**
 * Parses `text` as YAML and validates it with `schema`. Throws one {@link ConfigError} listing every
 * problem as `file:line: field: message`; a document over a limit (10 MiB, 64 levels of nesting,
 * 100 nodes reached through aliases) is `file[:line]: invalid YAML: <which limit>`.
 */
export function parseYamlWith<S extends z.ZodType>(schema: S, text: string, file: string): z.output<S> {
  const fail = (message: string, line?: number): never => {
    throw new ConfigError(`${file}${line ? `:${line}` : ""}: invalid YAML: ${message}`, { file, ...(line ? { line } : {}) });
  };
  const tooBig = sizeProblem(Buffer.byteLength(text, "utf8"));
  if (tooBig) fail(tooBig);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    // With prettyErrors off the parser leaves linePos unset; the offset still gives the line.
    const line = first.linePos?.[0].line ?? (first.pos[0] >= 0 ? lineCounter.linePos(first.pos[0]).line : undefined);
    // The parser recurses per level: nesting deep enough to exhaust its stack is the depth limit.
    fail(/Maximum call stack size exceeded/.test(first.message) ? DEPTH_PROBLEM : first.message.split("\n")[0]!, line);
  }
  const at = (node: Node | undefined) => (node?.range ? lineCounter.linePos(node.range[0]).line : undefined);
  const deep = tooDeepYamlNode(doc.contents);
  if (deep) fail(DEPTH_PROBLEM, at(deep));
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: DocumentLimits.maxAliasCount });
  } catch (error) {
    // The yaml package throws a ReferenceError for "Excessive alias count".
    if (error instanceof ReferenceError && /alias/i.test(error.message)) fail(ALIAS_PROBLEM, at(firstYamlAlias(doc.contents)));
    throw error;
  }
  return validateWith(schema, data, file, (path) => lineOf(doc.contents, path, lineCounter));
}

/**
 * Validates already-parsed data (objects given to the API, parsed files). Each problem is
 * `file[:line]: field.path: <what is wrong, naming the value>` (see `issueText`). `lineOf` maps an
 * issue path to a line when the caller knows it.
 */
export function validateWith<S extends z.ZodType>(schema: S, data: unknown, file: string, lineOf: (path: readonly PropertyKey[]) => number | undefined = () => undefined): z.output<S> {
  const parsed = schema.safeParse(data, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => {
    const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0] ?? ""] : issue.path;
    const field = path.map(String).join(".") || "(root)";
    const line = lineOf(path);
    return { field, line, text: `${file}${line ? `:${line}` : ""}: ${field}: ${issueText(schema, data, issue)}` };
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

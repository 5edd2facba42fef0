/**
 * Placeholders: references to pipeline parameters and other steps' results inside parameter
 * values, resolved when a step is launched.
 *
 * Grammar (both `${…}` and `$<…>`; `$<…>` is handy inside TypeScript template literals):
 *
 * ```
 * ${pipeline.<param>}
 * ${<step>.id}
 * ${<step>.parameters.<name>}            name may contain "/" and ".", e.g. Args/model_id
 * ${<step>.artifacts.<name>.url|id}
 * ${<step>.models.output.<index>.id|url|name}   index may be negative (-1 = last)
 * ${<step>.metrics.<name>}
 * ${item} ${item.<axis>} ${item.index}   in a map step: the element's item, axis value, index
 * ${<map>[<selector>].<ref>}             a map step's elements (ref: any of the above after <step>.)
 *     [*]              every element that succeeded, as a list (in element order)
 *     [*].elements     path of a JSON file listing every element, gaps included ([item].elements: the selected ones)
 *     [3]  [2,5]       elements by index (one → a value, several → a list)
 *     [seed=0,chunk=1] the element with these axis values
 *     [item]           in a map step: the elements whose values agree with this element's item
 * $${…}  or  $$<…>                       a literal "${…}" / "$<…>"
 * ```
 *
 * @module
 */
import { PlaceholderError } from "../errors.js";

/** Which elements of a map step a reference means; see the module comment. */
export type ElementSelector = { kind: "all" } | { kind: "item" } | { kind: "indices"; indices: number[] } | { kind: "values"; values: Record<string, string> };

/** What refers to a step's results, optionally to elements of a map step. */
type StepTarget = { step: string; select?: ElementSelector };

/** What a placeholder refers to. */
export type PlaceholderRef =
  | { kind: "pipeline"; param: string }
  | { kind: "item"; name?: string }
  | ({ kind: "id" } & StepTarget)
  | ({ kind: "parameter"; name: string } & StepTarget)
  | ({ kind: "artifact"; name: string; field: "url" | "id" } & StepTarget)
  | ({ kind: "model"; index: number; field: "id" | "url" | "name" } & StepTarget)
  | ({ kind: "metric"; name: string } & StepTarget)
  | ({ kind: "elements" } & StepTarget);

/** One placeholder found in a string. */
export interface Placeholder {
  ref: PlaceholderRef;
  /** The placeholder as written, e.g. `${step1.models.output.-1.id}`. */
  raw: string;
  /** Offset in the string. */
  offset: number;
}

/** A string split into literal text and placeholders. */
export type Template = ReadonlyArray<string | Placeholder>;

/** A step name, then optionally an element selector in brackets (group 2). */
const STEP = "([A-Za-z_][A-Za-z0-9_-]*)(?:\\[([^\\]]*)\\])?";
type Target = StepTarget;
const PATTERNS: ReadonlyArray<readonly [RegExp, (m: RegExpExecArray, t: Target) => PlaceholderRef]> = [
  [new RegExp(`^${STEP}\\.id$`), (_, t) => ({ kind: "id", ...t })],
  [new RegExp(`^${STEP}\\.elements$`), (_, t) => ({ kind: "elements", ...t })],
  [new RegExp(`^${STEP}\\.parameters\\.(.+)$`), (m, t) => ({ kind: "parameter", ...t, name: m[3]! })],
  [new RegExp(`^${STEP}\\.artifacts\\.(.+)\\.(url|id)$`), (m, t) => ({ kind: "artifact", ...t, name: m[3]!, field: m[4] as "url" | "id" })],
  [new RegExp(`^${STEP}\\.models\\.output\\.(-?\\d+)\\.(id|url|name)$`), (m, t) => ({ kind: "model", ...t, index: Number(m[3]), field: m[4] as "id" | "url" | "name" })],
  [new RegExp(`^${STEP}\\.metrics\\.(.+)$`), (m, t) => ({ kind: "metric", ...t, name: m[3]! })],
];

const HELP =
  "expected ${pipeline.<param>}, ${<step>.id}, ${<step>.parameters.<name>}, ${<step>.artifacts.<name>.url}, ${<step>.models.output.<index>.id|url|name}, ${<step>.metrics.<name>}, ${item.<axis>} or, for a map step, ${<step>[<selector>].…}";

/** Parses an element selector (the text between the brackets). */
function parseSelector(text: string, raw: string): ElementSelector {
  const body = text.trim();
  if (body === "*") return { kind: "all" };
  if (body === "item") return { kind: "item" };
  if (/^\d+(\s*,\s*\d+)*$/.test(body)) return { kind: "indices", indices: body.split(",").map((i) => Number(i.trim())) };
  const values: Record<string, string> = {};
  for (const pair of body.split(",")) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*([^=]*?)\s*$/.exec(pair);
    if (!match) {
      throw new PlaceholderError(raw, `invalid element selector "[${text}]" in "${raw}": expected [*], [item], indices such as [3] or [0,2], or axis values such as [seed=0,chunk=1]`);
    }
    values[match[1]!] = match[2]!;
  }
  return { kind: "values", values };
}

/** Parses the inside of a placeholder (`step1.models.output.-1.id`). */
export function parsePlaceholderBody(body: string, raw: string): PlaceholderRef {
  const pipeline = /^pipeline\.(.+)$/.exec(body);
  if (pipeline) return { kind: "pipeline", param: pipeline[1]! };
  const item = /^item(?:\.([A-Za-z_][A-Za-z0-9_-]*))?$/.exec(body);
  if (item) return item[1] === undefined ? { kind: "item" } : { kind: "item", name: item[1] };
  for (const [pattern, build] of PATTERNS) {
    const match = pattern.exec(body);
    if (match) {
      const target: Target = { step: match[1]! };
      if (match[2] !== undefined) target.select = parseSelector(match[2], raw);
      return build(match, target);
    }
  }
  const models = /^[^.]+\.models\.(.*)$/.exec(body);
  if (models) {
    throw new PlaceholderError(raw, `invalid placeholder "${raw}": models are referenced as <step>.models.output.<index>.id|url|name with an integer index (e.g. -1 for the last)`);
  }
  throw new PlaceholderError(raw, `invalid placeholder "${raw}": ${HELP}`);
}

/** Splits `text` into literal parts and placeholders. Throws {@link PlaceholderError} on bad syntax. */
export function parseTemplate(text: string): Template {
  const parts: Array<string | Placeholder> = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === "$" && next === "$" && (text[i + 2] === "{" || text[i + 2] === "<")) {
      literal += "$";
      i += 2; // "$$" escapes: the "{"/"<" that follows is kept as literal text below
      const open = text[i]!;
      const close = open === "{" ? "}" : ">";
      const end = text.indexOf(close, i);
      const stop = end === -1 ? text.length : end + 1;
      literal += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === "$" && (next === "{" || next === "<")) {
      const close = next === "{" ? "}" : ">";
      const end = text.indexOf(close, i + 2);
      if (end === -1) {
        throw new PlaceholderError(text, `unclosed placeholder at column ${i + 1} of "${text}": missing "${close}"`);
      }
      const raw = text.slice(i, end + 1);
      const body = text.slice(i + 2, end).trim();
      if (literal) parts.push(literal);
      literal = "";
      parts.push({ ref: parsePlaceholderBody(body, raw), raw, offset: i });
      i = end + 1;
      continue;
    }
    literal += ch;
    i += 1;
  }
  if (literal) parts.push(literal);
  return parts;
}

/** All placeholders in a value (strings, and strings nested in arrays and objects). */
export function findPlaceholders(value: unknown): Placeholder[] {
  if (typeof value === "string") return parseTemplate(value).filter((p): p is Placeholder => typeof p !== "string");
  if (Array.isArray(value)) return value.flatMap(findPlaceholders);
  if (value && typeof value === "object") return Object.values(value).flatMap(findPlaceholders);
  return [];
}

/** The step a placeholder refers to, or `undefined` for pipeline parameters and map items. */
export function referencedStep(ref: PlaceholderRef): string | undefined {
  return ref.kind === "pipeline" || ref.kind === "item" ? undefined : ref.step;
}

/** What a placeholder resolves to: a scalar, or a list (a map step's elements). */
export type PlaceholderValue = string | number | boolean | ReadonlyArray<string | number | boolean>;

/**
 * Replaces every placeholder in `value` (deeply) using `resolve`. A string that is exactly one
 * placeholder takes the resolved value's type (a metric stays a number, a list stays a list);
 * otherwise the results are joined as text (a list as JSON).
 */
export function substitute(value: unknown, resolve: (p: Placeholder) => PlaceholderValue): unknown {
  if (typeof value === "string") {
    const template = parseTemplate(value);
    if (template.length === 1 && typeof template[0] !== "string") return resolve(template[0]!);
    return template
      .map((part) => {
        if (typeof part === "string") return part;
        const resolved = resolve(part);
        return Array.isArray(resolved) ? JSON.stringify(resolved) : String(resolved);
      })
      .join("");
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, resolve));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, resolve)]));
  }
  return value;
}

/** Escapes text so it is taken literally: `${x}` → `$${x}`. */
export function escapePlaceholders(text: string): string {
  return text.replace(/\$(?=[{<])/g, "$$$$");
}

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
 * $${…}  or  $$<…>                       a literal "${…}" / "$<…>"
 * ```
 *
 * @module
 */
import { PlaceholderError } from "../errors.js";

/** What a placeholder refers to. */
export type PlaceholderRef =
  | { kind: "pipeline"; param: string }
  | { kind: "id"; step: string }
  | { kind: "parameter"; step: string; name: string }
  | { kind: "artifact"; step: string; name: string; field: "url" | "id" }
  | { kind: "model"; step: string; index: number; field: "id" | "url" | "name" }
  | { kind: "metric"; step: string; name: string };

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

const STEP = "[A-Za-z_][A-Za-z0-9_-]*";
const PATTERNS: ReadonlyArray<readonly [RegExp, (m: RegExpExecArray) => PlaceholderRef]> = [
  [/^pipeline\.(.+)$/, (m) => ({ kind: "pipeline", param: m[1]! })],
  [new RegExp(`^(${STEP})\\.id$`), (m) => ({ kind: "id", step: m[1]! })],
  [new RegExp(`^(${STEP})\\.parameters\\.(.+)$`), (m) => ({ kind: "parameter", step: m[1]!, name: m[2]! })],
  [new RegExp(`^(${STEP})\\.artifacts\\.(.+)\\.(url|id)$`), (m) => ({ kind: "artifact", step: m[1]!, name: m[2]!, field: m[3] as "url" | "id" })],
  [new RegExp(`^(${STEP})\\.models\\.output\\.(-?\\d+)\\.(id|url|name)$`), (m) => ({ kind: "model", step: m[1]!, index: Number(m[2]), field: m[3] as "id" | "url" | "name" })],
  [new RegExp(`^(${STEP})\\.metrics\\.(.+)$`), (m) => ({ kind: "metric", step: m[1]!, name: m[2]! })],
];

const HELP = "expected ${pipeline.<param>}, ${<step>.id}, ${<step>.parameters.<name>}, ${<step>.artifacts.<name>.url}, ${<step>.models.output.<index>.id|url|name} or ${<step>.metrics.<name>}";

/** Parses the inside of a placeholder (`step1.models.output.-1.id`). */
export function parsePlaceholderBody(body: string, raw: string): PlaceholderRef {
  for (const [pattern, build] of PATTERNS) {
    const match = pattern.exec(body);
    if (match) return build(match);
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

/** The step a placeholder refers to, or `undefined` for pipeline parameters. */
export function referencedStep(ref: PlaceholderRef): string | undefined {
  return ref.kind === "pipeline" ? undefined : ref.step;
}

/**
 * Replaces every placeholder in `value` (deeply) using `resolve`. A string that is exactly one
 * placeholder takes the resolved value's type (a metric stays a number); otherwise the results
 * are joined as text.
 */
export function substitute(value: unknown, resolve: (p: Placeholder) => string | number | boolean): unknown {
  if (typeof value === "string") {
    const template = parseTemplate(value);
    if (template.length === 1 && typeof template[0] !== "string") return resolve(template[0]!);
    return template.map((part) => (typeof part === "string" ? part : String(resolve(part)))).join("");
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

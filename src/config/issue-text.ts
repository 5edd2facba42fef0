/**
 * One zod issue as text that names the value given: `-22 is below the minimum 1`,
 * `"slurmm" is not one of "local", "slurm" (did you mean "slurm"?)`, `expected a number, got "22"
 * (string)`. Every zod-validated input (pipelines, cluster configs, task configs and options,
 * outputs manifests) is reported through {@link issueText}, so each message reads the same way.
 * The caller puts the location (file, line, field path) in front.
 *
 * @module
 */
import type { z } from "zod";
import { didYouMean } from "../args/did-you-mean.js";
import { unknownKeyHint } from "./unknown-keys.js";

/** Strings longer than this (in code points) are shown by their first {@link SHOWN_PREFIX} characters and their length. */
const LONG_STRING = 40;
/** How much of a long string is shown. */
const SHOWN_PREFIX = 20;
/** Objects and arrays are shown as JSON cut at this many characters. */
const SHOWN_JSON = 60;

/**
 * A value as messages show it: strings quoted (JSON escapes, so control characters stay
 * visible), long ones as `"first 20 characters…" (300 characters)`; numbers and booleans as they
 * are; objects and arrays as JSON, cut short; `undefined` as `nothing`.
 */
export function showValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") {
    const chars = [...value];
    if (chars.length <= LONG_STRING) return JSON.stringify(value);
    return `${JSON.stringify(chars.slice(0, SHOWN_PREFIX).join("")).slice(0, -1)}…" (${chars.length} characters)`;
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint" || value === null) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > SHOWN_JSON ? `${text.slice(0, SHOWN_JSON - 1)}…` : text;
}

/** `string`, `number`, `array`, `null`, … as messages name the type of a value. */
export function typeName(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

/** `"x" (string)`, `4 (number)`, `null`; `nothing (it is required)` when absent. */
export function showValueAndType(value: unknown): string {
  if (value === undefined) return "nothing (it is required)";
  if (value === null) return "null";
  return `${showValue(value)} (${typeName(value)})`;
}

/** The value at `path` inside `data`, and whether every object on the way was there. */
function valueAt(data: unknown, path: readonly PropertyKey[]): { found: boolean; value: unknown } {
  let value = data;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return { found: false, value: undefined };
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return { found: true, value };
}

/** The value an issue is about: the user's own data at the issue's path, else what zod saw. */
export function issueValue(data: unknown, issue: z.core.$ZodIssue): unknown {
  const at = valueAt(data, issue.path);
  return at.found ? at.value : (issue as { input?: unknown }).input;
}

const ARTICLE_TYPES: Record<string, string> = {
  int: "an integer",
  array: "an array",
  object: "an object",
  record: "an object",
  undefined: "nothing",
  null: "null",
};

/** `a string`, `an integer`, `an array` for zod's `expected`. */
function expectedType(expected: string): string {
  return ARTICLE_TYPES[expected] ?? `a ${expected}`;
}

/** A list as `a, b or c`. */
function either(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** ` (did you mean "x"?)` for a string that is close to one of the allowed values. */
function valueHint(value: unknown, allowed: readonly unknown[]): string {
  if (typeof value !== "string") return "";
  const hint = didYouMean(
    value,
    allowed.filter((v): v is string => typeof v === "string"),
  );
  return hint === undefined ? "" : ` (did you mean ${JSON.stringify(hint)}?)`;
}

/** `"x" is not one of "a", "b"`, with a "did you mean"; `expected "a", got "x"` for one value. */
function notOneOf(value: unknown, allowed: readonly unknown[]): string {
  const shown = allowed.map(showValue);
  if (value === undefined) return `expected ${allowed.length === 1 ? shown[0] : `one of ${shown.join(", ")}`}, got nothing (it is required)`;
  if (allowed.length === 1) return `expected ${shown[0]}, got ${showValue(value)}`;
  return `${showValue(value)} is not one of ${shown.join(", ")}${valueHint(value, allowed)}`;
}

/** A message a schema wrote itself (`must be an environment variable name`), rather than zod's default. */
function isCustom(message: string): boolean {
  return !/^(Invalid|Too (small|big)|Expected)\b/.test(message);
}

/** `"x" <message>`, unless the message already names the value. */
function withValue(value: unknown, message: string): string {
  const shown = showValue(value);
  return message.includes(shown) ? message : `${shown} ${message}`;
}

/** What one alternative of a union expects, for `expected a number or "auto", got …`. */
function expectation(issue: z.core.$ZodIssue | undefined): string | undefined {
  if (!issue || issue.path.length > 0) return undefined;
  if (issue.code === "invalid_type") return expectedType(issue.expected);
  if (issue.code === "invalid_value") return issue.values.map(showValue).join(" or ");
  if (issue.code === "invalid_format" && issue.format === "regex") return `a string matching ${(issue as { pattern?: string }).pattern ?? "the pattern"}`;
  return undefined;
}

function sizeText(origin: string, bound: number | bigint, value: unknown, small: boolean, inclusive: boolean): string {
  const shown = showValue(value);
  if (origin === "string") {
    const unit = `character${bound === 1 ? "" : "s"}`;
    return small ? `${shown} is shorter than the minimum of ${bound} ${unit}` : `${shown} is longer than the maximum of ${bound} ${unit}`;
  }
  if (origin === "array" || origin === "set") {
    const count = Array.isArray(value) ? value.length : (value as Set<unknown> | undefined)?.size;
    const items = count === undefined ? "" : ` has ${count} item${count === 1 ? "" : "s"},`;
    return small ? `${shown}${items} fewer than the minimum ${bound}` : `${shown}${items} more than the maximum ${bound}`;
  }
  if (small) return inclusive ? `${shown} is below the minimum ${bound}` : `${shown} must be greater than ${bound}`;
  return inclusive ? `${shown} is above the maximum ${bound}` : `${shown} must be less than ${bound}`;
}

/**
 * One zod issue as text naming the value, without the location (the caller adds the file, line
 * and field path). `schema` and `data` are the whole schema and input, used to find the keys an
 * object accepts ("did you mean" for unknown keys) and the value at the issue's path.
 */
export function issueText(schema: z.ZodType, data: unknown, issue: z.core.$ZodIssue): string {
  const value = issueValue(data, issue);
  switch (issue.code) {
    case "invalid_type":
      if (value === undefined) return `expected ${expectedType(issue.expected)}, got nothing (it is required)`;
      if (issue.expected === "number" && typeof value === "number") return `expected a finite number, got ${showValueAndType(value)}`;
      return `expected ${expectedType(issue.expected)}, got ${showValueAndType(value)}`;
    case "too_small":
      return sizeText(issue.origin, issue.minimum, value, true, issue.inclusive !== false);
    case "too_big":
      return sizeText(issue.origin, issue.maximum, value, false, issue.inclusive !== false);
    case "invalid_value":
      return notOneOf(value, issue.values);
    case "invalid_union": {
      const options = (issue as { options?: unknown[] }).options;
      // A discriminated union: the discriminator (e.g. `executor`) is an enum to the user.
      if (options && (issue as { discriminator?: string }).discriminator !== undefined) return notOneOf(value, options);
      const alternatives = issue.errors.map((branch) => expectation(branch[0]));
      if (alternatives.length > 0 && alternatives.every((a) => a !== undefined)) {
        return `expected ${either([...new Set(alternatives as string[])])}, got ${showValueAndType(value)}`;
      }
      return `${issue.message}, got ${showValueAndType(value)}`;
    }
    case "invalid_format":
      if (isCustom(issue.message)) return withValue(value, issue.message);
      if (issue.format === "regex") return `${showValue(value)} does not match ${(issue as { pattern?: string }).pattern ?? "the pattern"}`;
      return `${showValue(value)} is not a valid ${issue.format === "url" ? "URL" : issue.format}`;
    case "not_multiple_of":
      return `${showValue(value)} is not a multiple of ${issue.divisor}`;
    case "unrecognized_keys": {
      const key = issue.keys[0] ?? "";
      return `${issue.message}${unknownKeyHint(schema, data, issue.path, key)}`;
    }
    case "invalid_key": {
      const key = issue.path[issue.path.length - 1];
      const why = issue.issues[0];
      const reason =
        why && isCustom(why.message) ? why.message : why?.code === "invalid_format" ? `must match ${(why as { pattern?: string }).pattern ?? "the pattern"}` : (why?.message ?? issue.message);
      return `invalid key ${JSON.stringify(String(key))}: ${reason}`;
    }
    case "custom":
      return isCustom(issue.message) ? withValue(value, issue.message) : `${issue.message}, got ${showValueAndType(value)}`;
    default:
      return `${issue.message}, got ${showValueAndType(value)}`;
  }
}

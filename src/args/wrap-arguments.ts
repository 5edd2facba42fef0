/**
 * `wrapArguments()`: NeMo-Skills-style "main arguments" (Hydra overrides such as
 * `++inference.temperature=0.6`) parsed once into a typed, immutable value that is both an argv
 * array and, quoted again, a shell string.
 *
 * @module
 */

import { ArgumentsError } from "../errors.js";
import { didYouMean } from "./did-you-mean.js";
import { shellJoin } from "./shell-quote.js";
import { argumentsErrorAt, describeType, splitShellWords } from "./split-words.js";

/** Hydra override prefixes: `++` add or override, `+` add, `~` delete, `""` none. */
export const OverridePrefix = {
  /** `++key=value`: set the key whether or not the config has it. */
  ForceAdd: "++",
  /** `+key=value`: add a key the config does not have. */
  Add: "+",
  /** `~key` or `~key=value`: delete a key. */
  Delete: "~",
  /** A plain `key=value` override, or a word that is no override at all. */
  None: "",
} as const;

/** One of {@link OverridePrefix}'s values. */
export type OverridePrefix = (typeof OverridePrefix)[keyof typeof OverridePrefix];

/** One word of the arguments, read as a Hydra override where it is one. */
export interface ArgumentEntry {
  /** The override prefix (`"++"`, `"+"`, `"~"`), or `""` for a plain override or a non-override word. */
  readonly prefix: OverridePrefix;
  /** Dotted key (`inference.temperature`), or `undefined` when the word is no override (`--flag`, `file.txt`). */
  readonly key: string | undefined;
  /**
   * Text after the first `=`, exactly as Hydra will read it (Hydra-level quotes such as
   * `'be brief'` are kept), or `undefined` when there is no `=` (`~key`, `++key`).
   */
  readonly value: string | undefined;
  /** The whole word, as it is in `argv`. */
  readonly raw: string;
}

// Hydra key: dotted path of identifiers or list indexes, config-group paths (`/`), packages (`@`).
const KEY = /^[A-Za-z0-9_$][\w$.\-/@]*$/;
// Without a prefix a word is an override only as `key=value` with a key that cannot be a flag or a path.
const PLAIN_KEY = /^[A-Za-z_$][\w$.\-/@]*$/;

/**
 * Reads one word as a Hydra override. `++a.b=1` → `{ prefix: "++", key: "a.b", value: "1" }`;
 * `~foo` → `{ prefix: "~", key: "foo", value: undefined }`; `a=1` → `{ prefix: "", key: "a", value: "1" }`;
 * `--flag`, `positional`, `~/path` → `{ prefix: "", key: undefined, value: undefined }`.
 */
export function parseEntry(word: string): ArgumentEntry {
  const prefix: OverridePrefix = word.startsWith("++") ? "++" : word.startsWith("+") ? "+" : word.startsWith("~") ? "~" : "";
  const body = word.slice(prefix.length);
  const eq = body.indexOf("=");
  const key = eq < 0 ? body : body.slice(0, eq);
  const value = eq < 0 ? undefined : body.slice(eq + 1);
  const isOverride = prefix === "" ? value !== undefined && PLAIN_KEY.test(key) : KEY.test(key);
  if (!isOverride) return Object.freeze({ prefix: "", key: undefined, value: undefined, raw: word });
  return Object.freeze({ prefix, key, value, raw: word });
}

/** Anything that can become {@link WrappedArguments}: a shell-style string, an argv array, or one already parsed. */
export type ArgumentsLike = WrappedArguments | string | readonly string[];

/**
 * Parsed passthrough arguments: immutable, usable as argv (`.argv`, iteration) and as a shell
 * string (`.toShell()`, `String(args)`), which a POSIX shell splits back into exactly `.argv`.
 * Build one with {@link wrapArguments} or {@link WrappedArguments.fromArgv}.
 */
export class WrappedArguments implements Iterable<string> {
  /** The words, as the job will receive them. */
  readonly argv: readonly string[];
  /** Each word of `argv` read as a Hydra override (same order, same length). */
  readonly entries: readonly ArgumentEntry[];

  // Private: every instance comes from validated words (strings, no NUL).
  private constructor(argv: readonly string[]) {
    this.argv = Object.freeze([...argv]);
    this.entries = Object.freeze(this.argv.map(parseEntry));
    Object.freeze(this);
  }

  /**
   * Wraps an argv array (no quoting or splitting: each element is one word, kept verbatim).
   *
   * @throws {@link ArgumentsError} when `argv` is not an array of strings, or a word holds a NUL
   *   character (no process argument can).
   */
  static fromArgv(argv: readonly string[]): WrappedArguments {
    const who = "WrappedArguments.fromArgv";
    if (!Array.isArray(argv)) {
      throw new ArgumentsError("", 0, `${who}: expected an array of strings, got ${describeType(argv)}`);
    }
    argv.forEach((word: unknown, index) => {
      if (typeof word !== "string") {
        throw new ArgumentsError("", 0, `${who}: argv[${index}] must be a string, got ${describeType(word)}`);
      }
      const nul = word.indexOf("\0");
      if (nul >= 0) throw argumentsErrorAt(`${who}: argv[${index}]`, "NUL character (no process argument can hold one)", word, nul);
    });
    return new WrappedArguments(argv);
  }

  /** Parses a shell-style string; the same as {@link wrapArguments}. */
  static parse(text: string): WrappedArguments {
    return wrapArguments(text);
  }

  /** Number of words. */
  get length(): number {
    return this.argv.length;
  }

  /** Override keys in order of first appearance, each once (deletions `~key` included). */
  keys(): string[] {
    const seen = new Set<string>();
    for (const e of this.entries) if (e.key !== undefined) seen.add(e.key);
    return [...seen];
  }

  /**
   * The value Hydra will end up with for `key` (exact dotted key): the last override's value,
   * or `undefined` when no override sets it, the last one deletes it (`~key`), or has no `=`.
   */
  get(key: string): string | undefined {
    let value: string | undefined;
    for (const e of this.entries) {
      if (e.key === key) value = e.prefix === "~" ? undefined : e.value;
    }
    return value;
  }

  /** Whether any word is an override of `key` (exact dotted key). */
  has(key: string): boolean {
    return this.entries.some((e) => e.key === key);
  }

  /** A new value with the words of `others` appended (later overrides win in Hydra). */
  concat(...others: ArgumentsLike[]): WrappedArguments {
    return new WrappedArguments([...this.argv, ...others.flatMap((o) => toWrappedArguments(o).argv)]);
  }

  /** The words quoted for a POSIX shell and joined by spaces; `sh` splits it back into exactly `argv`. */
  toShell(): string {
    return shellJoin(this.argv);
  }

  /** Same as {@link WrappedArguments.toShell}, so the value can be used in template strings. */
  toString(): string {
    return this.toShell();
  }

  /** JSON form: the shell string, which {@link wrapArguments} reads back into the same argv. */
  toJSON(): string {
    return this.toShell();
  }

  /** Iterates over the words of `argv`. */
  [Symbol.iterator](): Iterator<string> {
    return this.argv[Symbol.iterator]();
  }
}

/**
 * Parses passthrough arguments such as
 * `++prompt_config=generic/math ++inference.temperature=0.6 "++system='be brief'"` the way a
 * POSIX shell splits words — quotes, backslash escapes, line continuations, newlines and tabs
 * as separators — but with no expansion: `$HOME`, backticks, `~` and globs stay literal, because
 * the arguments go to the job verbatim (the exact rules: `splitShellWords` in `src/args/split-words.ts`).
 *
 * @throws {@link ArgumentsError} for non-string input, an unclosed quote (offset of the opening
 *   quote) or a trailing lone backslash; the message shows the input and points at the column.
 *
 * @example
 * ```ts
 * import { shellJoin, wrapArguments } from "gpu-dag";
 *
 * const args = wrapArguments(`++prompt_config=generic/math ++inference.temperature=0.6 "++system='be brief'" ++path=$HOME`);
 * console.log(args.argv.length, args.argv[2]); // prints: 4 ++system='be brief'
 * console.log(args.argv[3]); // prints: ++path=$HOME
 * // Quoted again for a shell, each word exactly as parsed:
 * console.log(shellJoin(args.argv));
 * ```
 */
export function wrapArguments(text: string): WrappedArguments {
  if (typeof text !== "string") {
    const hint = Array.isArray(text)
      ? "; use WrappedArguments.fromArgv() for an argv array"
      : (text as unknown) instanceof WrappedArguments
        ? "; it is already parsed, pass it on as it is (or use toWrappedArguments())"
        : "";
    throw new ArgumentsError("", 0, `wrapArguments: expected a string, got ${describeType(text)}${hint}`);
  }
  return WrappedArguments.fromArgv(splitShellWords(text, "wrapArguments"));
}

/**
 * Normalises {@link ArgumentsLike}: a string is parsed with {@link wrapArguments}, an array is
 * taken as argv, a {@link WrappedArguments} is returned as it is. For APIs that accept all three.
 *
 * @throws {@link ArgumentsError} for anything else, or for input those functions reject.
 */
export function toWrappedArguments(value: ArgumentsLike): WrappedArguments {
  if (value instanceof WrappedArguments) return value;
  if (Array.isArray(value)) return WrappedArguments.fromArgv(value);
  if (typeof value === "string") return wrapArguments(value);
  throw new ArgumentsError("", 0, `toWrappedArguments: expected a string, an argv array or WrappedArguments, got ${describeType(value)}`);
}

/** An override whose key is not among the known keys (see {@link checkKnownKeys}). */
export interface UnknownKeyProblem {
  /** Index of the word in `argv`. */
  readonly index: number;
  /** The whole word, e.g. `++inferenc.temperature=0.6`. */
  readonly word: string;
  /** The unknown dotted key, e.g. `inferenc.temperature`. */
  readonly key: string;
  /** The closest known key, with the rest of the dotted path kept, or `undefined`. */
  readonly suggestion: string | undefined;
  /** Human-readable text, starting with the `context` given to {@link checkKnownKeys}. */
  readonly message: string;
}

/**
 * Finds `++key` / `+key` overrides whose key is unknown — catching typos before a job is
 * submitted rather than after it has waited in a queue. A key is known when it equals a known
 * key or lies under one (known `inference` covers `inference.temperature`; known `a.b` covers
 * `a.b.c`). `~key` and plain `key=value` are not checked (Hydra itself rejects those for
 * missing keys).
 *
 * @param args - the arguments to check (a string as {@link wrapArguments} parses it, an argv array, or a {@link WrappedArguments}).
 * @param knownKeys - top-level or dotted keys the job understands.
 * @param context - what the arguments belong to, put at the start of each message (e.g. `step "eval"`).
 * @returns one problem per unknown override, in argv order; empty when all are known.
 */
export function checkKnownKeys(args: ArgumentsLike, knownKeys: Iterable<string>, context: string): UnknownKeyProblem[] {
  const known = [...new Set(knownKeys)];
  const isKnown = (key: string): boolean => known.some((k) => key === k || key.startsWith(`${k}.`));
  const problems: UnknownKeyProblem[] = [];

  toWrappedArguments(args).entries.forEach((entry, index) => {
    if ((entry.prefix !== "++" && entry.prefix !== "+") || entry.key === undefined || isKnown(entry.key)) return;
    const key = entry.key;
    const suggestion = suggestKey(key, known);
    const hint = suggestion !== undefined ? `; did you mean "${suggestion}"?` : known.length > 0 && known.length <= 12 ? ` (known keys: ${known.join(", ")})` : "";
    problems.push(
      Object.freeze({
        index,
        word: entry.raw,
        key,
        suggestion,
        message: `${context}: unknown key "${key}" in "${entry.raw}"${hint}`,
      }),
    );
  });
  return problems;
}

/**
 * Suggests a fix for a dotted key: first the whole key against the known keys, then ever
 * shorter leading parts of it (so `inferenc.temperature` with known `inference` becomes
 * `inference.temperature`).
 */
function suggestKey(key: string, known: readonly string[]): string | undefined {
  const parts = key.split(".");
  for (let n = parts.length; n >= 1; n--) {
    const head = parts.slice(0, n).join(".");
    const match = didYouMean(head, known);
    if (match !== undefined) return [match, ...parts.slice(n)].join(".");
  }
  return undefined;
}

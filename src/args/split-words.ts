/**
 * POSIX-shell word splitting without expansion: the parser behind `wrapArguments()`.
 *
 * Passthrough arguments are handed to the job verbatim, so this splits words exactly as
 * `sh` would but never expands anything: `$HOME`, backticks, `~`, globs and shell operators
 * (`;`, `|`, `&`, `<`, `>`, `(`, `)`) stay literal text. The words are quoted again with
 * `shellQuote()` before they reach any shell, so literal is always safe.
 *
 * @module
 */

import { ArgumentsError } from "../errors.js";

/** Characters that separate words outside quotes (sh's blanks plus newline). */
function isSeparator(c: string): boolean {
  return c === " " || c === "\t" || c === "\n";
}

/** Characters a backslash escapes inside double quotes (POSIX 2.2.3); any other backslash stays. */
function isDoubleQuoteEscapable(c: string): boolean {
  return c === "$" || c === "`" || c === '"' || c === "\\";
}

/**
 * Splits `text` into words the way a POSIX shell does, with no expansion of any kind.
 *
 * - single quotes keep everything literal up to the next `'`;
 * - double quotes keep everything literal except that a backslash escapes `$`, `` ` ``, `"`, `\`
 *   and removes a following newline (a line continuation);
 * - outside quotes a backslash makes the next character literal, and `\<newline>` is removed;
 * - spaces, tabs and newlines separate words; `''` and `""` make empty words; adjacent quoted
 *   and unquoted parts join into one word (`a'b'"c"` is `abc`);
 * - a `#` that starts a word starts a comment up to the end of the line, as in sh (so a line of
 *   a multi-line argument string can be commented out); a `#` inside a word is literal.
 *
 * @param text - the shell-style text to split.
 * @param caller - name put at the start of error messages (the public function the user called).
 * @returns the words, in order.
 * @throws {@link ArgumentsError} for an unclosed quote (offset of the opening quote), a trailing
 *   lone backslash (its offset), or a NUL character (no process argument can hold one).
 */
export function splitShellWords(text: string, caller = "splitShellWords"): string[] {
  const nul = text.indexOf("\0");
  if (nul >= 0) throw argumentsErrorAt(caller, "NUL character (no process argument can hold one)", text, nul);

  const words: string[] = [];
  const n = text.length;
  let word = "";
  // Separate from `word !== ""` because quotes make a word even when it is empty (`''`).
  let inWord = false;
  let i = 0;

  while (i < n) {
    const c = text[i]!;

    if (isSeparator(c)) {
      if (inWord) {
        words.push(word);
        word = "";
        inWord = false;
      }
      i++;
      continue;
    }

    if (c === "#" && !inWord) {
      const eol = text.indexOf("\n", i);
      i = eol < 0 ? n : eol;
      continue;
    }

    if (c === "\\") {
      if (i + 1 >= n) throw argumentsErrorAt(caller, "trailing backslash (nothing to escape)", text, i);
      const next = text[i + 1]!;
      // Line continuation: removed before word splitting in sh, so it neither ends nor starts a word.
      if (next !== "\n") {
        word += next;
        inWord = true;
      }
      i += 2;
      continue;
    }

    if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw argumentsErrorAt(caller, "unclosed single quote", text, i);
      word += text.slice(i + 1, close);
      inWord = true;
      i = close + 1;
      continue;
    }

    if (c === '"') {
      const open = i;
      inWord = true;
      i++;
      for (;;) {
        if (i >= n) throw argumentsErrorAt(caller, "unclosed double quote", text, open);
        const d = text[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === "\\" && i + 1 < n) {
          const e = text[i + 1]!;
          if (e === "\n") {
            i += 2;
            continue;
          }
          if (isDoubleQuoteEscapable(e)) {
            word += e;
            i += 2;
            continue;
          }
        }
        word += d;
        i++;
      }
      continue;
    }

    word += c;
    inWord = true;
    i++;
  }

  if (inWord) words.push(word);
  return words;
}

/**
 * Builds an {@link ArgumentsError} whose message names the problem, shows the input and puts a
 * caret under the offending character, e.g.
 *
 * ```text
 * wrapArguments: unclosed double quote at column 5 in: ++a="b c
 *                                                          ^
 * ```
 *
 * For multi-line input only the offending line is shown, with its line number. Columns are
 * 1-based; `offset` (kept on the error) is the 0-based index into `input`.
 */
export function argumentsErrorAt(caller: string, problem: string, input: string, offset: number): ArgumentsError {
  const lineStart = offset === 0 ? 0 : input.lastIndexOf("\n", offset - 1) + 1;
  const lineEndAt = input.indexOf("\n", offset);
  const lineEnd = lineEndAt < 0 ? input.length : lineEndAt;
  const column = offset - lineStart + 1;
  // Show NUL as a visible one-code-unit symbol so the caret stays aligned.
  const shown = input.slice(lineStart, lineEnd).replace(/\0/g, "\u2400");
  // Keep tabs as tabs in the padding so the caret lines up however the terminal renders them.
  const pad = [...shown.slice(0, column - 1)].map((ch) => (ch === "\t" ? "\t" : " ")).join("");

  let message: string;
  if (input.includes("\n")) {
    const line = input.slice(0, lineStart).split("\n").length;
    message = `${caller}: ${problem} at line ${line}, column ${column} in:\n  ${shown}\n  ${pad}^`;
  } else {
    const head = `${caller}: ${problem} at column ${column} in: `;
    message = `${head}${shown}\n${" ".repeat(head.length)}${pad}^`;
  }
  return new ArgumentsError(input, offset, message);
}

/** Describes a value's type for error messages: `number (42)`, `null`, `an array`, `object`. */
export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "number":
    case "boolean":
    case "bigint":
      return `${typeof value} (${String(value)})`;
    case "symbol":
      return `symbol (${String(value)})`;
    case "object": {
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      return typeof name === "string" && name !== "Object" ? `object (${name})` : "object";
    }
    default:
      return typeof value;
  }
}

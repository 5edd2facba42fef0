/**
 * Checks our parser and quoting against a real /bin/sh: generated argv arrays must survive
 * `shellJoin` → `wrapArguments` and `toShell()` → `sh`, and hand-written shell text must split
 * the same in both.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellJoin, WrappedArguments, wrapArguments } from "../../../src/args/index.js";
import { mulberry32 } from "../helpers.js";

// Whole code points only (no lone surrogates): argv goes through UTF-8 to sh and back.
const PIECES = [
  "a",
  "b",
  "z",
  "A",
  "0",
  "9",
  "_",
  "-",
  ".",
  "/",
  "=",
  "+",
  "++",
  "~",
  ",",
  ":",
  "@",
  "%",
  " ",
  "  ",
  "\t",
  "\n",
  "\r",
  "'",
  "''",
  '"',
  '""',
  "\\",
  "\\\\",
  "\\\n",
  "\\'",
  '\\"',
  "$",
  "$HOME",
  "${x}",
  "$(id)",
  "`",
  "`id`",
  "*",
  "?",
  "[a]",
  "#",
  ";",
  "&",
  "|",
  "<",
  ">",
  "(",
  ")",
  "{",
  "}",
  "!",
  "^",
  "é",
  "ß",
  "世界",
  "😀",
  "\u00a0",
  "\u200b",
];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

function genWord(rand: () => number): string {
  const r = rand();
  if (r < 0.08) return "";
  if (r < 0.25) {
    // a Hydra override whose value has spaces and specials
    const key = pick(rand, ["a", "inference.temperature", "prompt_config", "x.y.z"]);
    return `${pick(rand, ["++", "+", "~", ""])}${key}=${genText(rand, 6)}`;
  }
  return genText(rand, 8);
}

function genText(rand: () => number, maxPieces: number): string {
  const n = 1 + Math.floor(rand() * maxPieces);
  let s = "";
  for (let i = 0; i < n; i++) s += pick(rand, PIECES);
  return s;
}

function genArgv(rand: () => number): string[] {
  const n = Math.floor(rand() * 7);
  return Array.from({ length: n }, () => genWord(rand));
}

/** Splits `shellText` with the real /bin/sh and returns the words it produced. */
function shSplit(shellText: string): string[] {
  const script = `set -- ${shellText}\nfor a in "$@"; do printf '%s\\0' "$a"; done`;
  const out = execFileSync("/bin/sh", ["-c", script], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

describe("property: quoting round-trips", () => {
  const rand = mulberry32(0x5eed);
  const samples = Array.from({ length: 1000 }, () => genArgv(rand));

  it("the generator covers the interesting characters", () => {
    const all = samples.flat().join("");
    for (const ch of ["'", '"', "$", "`", "\n", "\\", "\t", " ", "😀", "世"]) expect(all).toContain(ch);
    expect(samples.flat()).toContain("");
    expect(samples.flat().some((w) => w.startsWith("++") && w.includes(" "))).toBe(true);
  });

  it("wrapArguments(shellJoin(argv)).argv equals argv for 1,000 generated argv arrays", () => {
    for (const argv of samples) {
      const text = shellJoin(argv);
      expect(wrapArguments(text).argv, text).toEqual(argv);
      expect(WrappedArguments.fromArgv(argv).toShell()).toBe(text);
    }
  });

  it("real /bin/sh splits toShell() into the same argv (100 samples)", () => {
    for (const argv of samples.slice(0, 100)) {
      const text = WrappedArguments.fromArgv(argv).toShell();
      expect(shSplit(text), text).toEqual(argv);
    }
  });
});

describe("our split equals /bin/sh's on hand-written shell text", () => {
  // No $ or backticks (sh would expand them; we keep them literal on purpose), no unquoted
  // globs, leading ~ or operators (sh would expand or execute them), no bare newline (it ends
  // sh's `set --` command).
  const texts = [
    "a b c",
    "  a \t b  ",
    "'a b' \"c d\"",
    "a'b'\"c\"d",
    "'' \"\" ''\"\"",
    "'it'\\''s'",
    '"it\'s" "say \\"hi\\""',
    '"back\\\\slash" "keep\\n" "keep\\\'"',
    "a\\ b \\'q\\' \\\"d\\\" \\\\",
    "a\\\nb c \\\n d",
    "\"multi\nline\" 'also\nthis'",
    '"cont\\\ninued"',
    "'\\no escape in single'",
    "a#b '#x' \"#y\" \\#z",
    "a b # a comment",
    "\\~ '~x' \\*.txt '[a]' \"?\"",
    "'a;b' \"c|d\" e\\&f g\\>h",
    `++prompt_config=generic/math ++inference.temperature=0.6 "++system='be brief'"`,
    `++x='value with spaces' +y="double \\"quoted\\"" --flag positional`,
    "héllo '世界 😀' \"é\\\\\"",
    "'\t' \"\t\" \\\t",
    "++list='[1,2,3]' ++dict=\"{a: 1}\"",
  ];

  it.each(texts)("%j", (text) => {
    expect(wrapArguments(text).argv).toEqual(shSplit(text));
  });

  it("random mixes of quoting styles split the same (300 samples)", () => {
    const rand = mulberry32(42);
    // Fragments that mean the same literal text to us and to sh (no expansion triggers).
    const bare = ["a", "b", "x.y", "++k=v", "=", ",", "-", "é", "😀", "+", "%", "@", ":", "/"];
    const inSingle = ["", " ", "a b", "\\", '"', "$", "`", "\n", "\\\n", "\t", "*", "#", "~"];
    const inDouble = ["", " ", "a b", "'", "\\\\", '\\"', "\\$", "\\`", "\\n", "\\\n", "\n", "\t", "*", "#", "~"];
    const escaped = ["\\ ", "\\'", '\\"', "\\\\", "\\$", "\\`", "\\*", "\\#", "\\~", "\\;", "\\\n", "\\a"];
    const seps = [" ", "  ", "\t", " \\\n "];
    for (let n = 0; n < 300; n++) {
      let text = "";
      const words = 1 + Math.floor(rand() * 5);
      for (let w = 0; w < words; w++) {
        if (w > 0) text += pick(rand, seps);
        const parts = 1 + Math.floor(rand() * 4);
        for (let p = 0; p < parts; p++) {
          const kind = rand();
          if (kind < 0.3) text += pick(rand, bare);
          else if (kind < 0.55) text += `'${pick(rand, inSingle)}${pick(rand, inSingle)}'`;
          else if (kind < 0.8) text += `"${pick(rand, inDouble)}${pick(rand, inDouble)}"`;
          else text += pick(rand, escaped);
        }
      }
      expect(wrapArguments(text).argv, JSON.stringify(text)).toEqual(shSplit(text));
    }
  });
});

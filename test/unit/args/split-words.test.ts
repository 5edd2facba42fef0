import { describe, expect, it } from "vitest";
import { splitShellWords, wrapArguments } from "../../../src/args/index.js";
import { ArgumentsError, ErrorCode } from "../../../src/errors.js";

const split = (text: string): readonly string[] => wrapArguments(text).argv;

describe("wrapArguments splits words like a POSIX shell", () => {
  const cases: Array<[string, string[]]> = [
    ["", []],
    ["   \t\n  ", []],
    ["a", ["a"]],
    ["a b\tc\nd", ["a", "b", "c", "d"]],
    ["  leading and trailing  ", ["leading", "and", "trailing"]],
    ["a  \t\n\n  b", ["a", "b"]],
    // quotes
    ["'a b'", ["a b"]],
    ['"a b"', ["a b"]],
    ["''", [""]],
    ['""', [""]],
    ["'' \"\" x", ["", "", "x"]],
    ["a'b'\"c\"", ["abc"]],
    ["'a'\"\"'b'", ["ab"]],
    ["x''", ["x"]],
    ["'it'\\''s'", ["it's"]],
    ['"it\'s"', ["it's"]],
    ["'say \"hi\"'", ['say "hi"']],
    ["'back\\slash'", ["back\\slash"]],
    ["'a\nb'", ["a\nb"]],
    ['"a\nb"', ["a\nb"]],
    ["'a\tb'", ["a\tb"]],
    // double quotes: backslash escapes only $ ` " \ and newline
    ['"\\$HOME"', ["$HOME"]],
    ['"\\`cmd\\`"', ["`cmd`"]],
    ['"a\\"b"', ['a"b']],
    ['"a\\\\b"', ["a\\b"]],
    ['"a\\nb"', ["a\\nb"]],
    ['"a\\\'b"', ["a\\'b"]],
    ['"a\\\nb"', ["ab"]],
    // outside quotes: backslash makes the next character literal
    ["a\\ b", ["a b"]],
    ["\\'x\\'", ["'x'"]],
    ['\\"', ['"']],
    ["\\\\", ["\\"]],
    ["a\\nb", ["anb"]],
    ["\\\t", ["\t"]],
    // line continuations
    ["a\\\nb", ["ab"]],
    ["a \\\n b", ["a", "b"]],
    ["\\\n", []],
    ["++a=1 \\\n  ++b=2", ["++a=1", "++b=2"]],
    ["'a\\\nb'", ["a\\\nb"]],
    // no expansion: $ and backticks stay literal
    ["$HOME", ["$HOME"]],
    ["${HOME}/x", ["${HOME}/x"]],
    ["`whoami`", ["`whoami`"]],
    ["$(rm -rf /)", ["$(rm", "-rf", "/)"]],
    ['"$HOME `id`"', ["$HOME `id`"]],
    ["'$HOME'", ["$HOME"]],
    ["~ ~/x *.txt", ["~", "~/x", "*.txt"]],
    // operators are ordinary characters: nothing is executed
    ["a;b|c&d>e<f", ["a;b|c&d>e<f"]],
    ["++x=choice(a,b)", ["++x=choice(a,b)"]],
    // comments: # starting a word, as in sh
    ["a # comment\nb", ["a", "b"]],
    ["# only a comment", []],
    ["a#b c", ["a#b", "c"]],
    ["'#' \"#\" \\#", ["#", "#", "#"]],
    ["++a=1\n# ++b=2\n++c=3", ["++a=1", "++c=3"]],
    // unicode
    ["héllo 世界 '😀 x'", ["héllo", "世界", "😀 x"]],
    // the NeMo-Skills example
    [`++prompt_config=generic/math ++inference.temperature=0.6 "++system='be brief'"`, ["++prompt_config=generic/math", "++inference.temperature=0.6", "++system='be brief'"]],
    ["++x='a b' ~y +z=1 --flag pos", ["++x=a b", "~y", "+z=1", "--flag", "pos"]],
  ];

  it.each(cases)("%j", (text, argv) => {
    expect(split(text)).toEqual(argv);
    expect(splitShellWords(text)).toEqual(argv);
  });
});

/** Runs `fn`, expecting an ArgumentsError, and returns it. */
function errorOf(fn: () => unknown): ArgumentsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ArgumentsError);
    return e as ArgumentsError;
  }
  throw new Error("expected an ArgumentsError");
}

describe("malformed input", () => {
  it("unclosed double quote: offset of the quote, message shows input and caret", () => {
    const e = errorOf(() => wrapArguments('++a="b c'));
    expect(e.code).toBe(ErrorCode.Arguments);
    expect(e.name).toBe("ArgumentsError");
    expect(e.offset).toBe(4);
    expect(e.input).toBe('++a="b c');
    expect(e.message).toBe('wrapArguments: unclosed double quote at column 5 in: ++a="b c\n' + " ".repeat(57) + "^");
  });

  it("unclosed double quote after other words", () => {
    const e = errorOf(() => wrapArguments('++x=1 ++a="b c'));
    expect(e.offset).toBe(10);
    expect(e.message.split("\n")[0]).toBe('wrapArguments: unclosed double quote at column 11 in: ++x=1 ++a="b c');
    // the caret sits exactly under the quote
    const [head, caret] = e.message.split("\n") as [string, string];
    expect(head[caret.indexOf("^")]).toBe('"');
  });

  it("unclosed single quote", () => {
    const e = errorOf(() => wrapArguments("a 'b c"));
    expect(e.offset).toBe(2);
    expect(e.message).toBe("wrapArguments: unclosed single quote at column 3 in: a 'b c\n" + " ".repeat(55) + "^");
  });

  it("a double quote inside single quotes does not close anything", () => {
    expect(errorOf(() => wrapArguments(`'a"b`)).offset).toBe(0);
    expect(errorOf(() => wrapArguments(`"a'b`)).offset).toBe(0);
  });

  it("escaped closing double quote leaves the quote open", () => {
    const e = errorOf(() => wrapArguments('x "a\\"'));
    expect(e.offset).toBe(2);
    expect(e.message).toContain("unclosed double quote at column 3");
  });

  it("backslash at the end inside double quotes is an unclosed quote", () => {
    expect(errorOf(() => wrapArguments('"abc\\')).offset).toBe(0);
  });

  it("trailing lone backslash", () => {
    const e = errorOf(() => wrapArguments("++a=1 b\\"));
    expect(e.offset).toBe(7);
    expect(e.message).toBe("wrapArguments: trailing backslash (nothing to escape) at column 8 in: ++a=1 b\\\n" + " ".repeat(77) + "^");
  });

  it("an escaped backslash at the end is fine", () => {
    expect(split("a\\\\")).toEqual(["a\\"]);
  });

  it("multi-line input shows only the offending line, with its number", () => {
    const e = errorOf(() => wrapArguments("++a=1 \\\n  ++b='x\n++c=3"));
    expect(e.offset).toBe(14);
    expect(e.message).toBe("wrapArguments: unclosed single quote at line 2, column 7 in:\n    ++b='x\n        ^");
  });

  it("tabs before the problem stay tabs in the caret line", () => {
    const e = errorOf(() => wrapArguments("\ta\t'b"));
    expect(e.offset).toBe(3);
    expect(e.message.split("\n")[1]).toBe(" ".repeat("wrapArguments: unclosed single quote at column 4 in: ".length) + "\t \t^");
  });

  it("NUL characters are rejected: no process argument can hold one", () => {
    const e = errorOf(() => wrapArguments("a b\0c"));
    expect(e.offset).toBe(3);
    expect(e.message.split("\n")[0]).toBe("wrapArguments: NUL character (no process argument can hold one) at column 4 in: a b\u2400c");
  });

  it.each([
    [42, "number (42)"],
    [undefined, "undefined"],
    [null, "null"],
    [true, "boolean (true)"],
    [{}, "object"],
    [new Map(), "object (Map)"],
  ])("non-string input %j names the type received", (value, described) => {
    const e = errorOf(() => wrapArguments(value as unknown as string));
    expect(e.message).toBe(`wrapArguments: expected a string, got ${described}`);
  });

  it("an array gets a hint towards fromArgv", () => {
    expect(errorOf(() => wrapArguments(["a"] as unknown as string)).message).toBe("wrapArguments: expected a string, got an array; use WrappedArguments.fromArgv() for an argv array");
  });

  it("splitShellWords names itself in errors", () => {
    expect(errorOf(() => splitShellWords("'")).message).toMatch(/^splitShellWords: unclosed single quote at column 1 in: '/);
  });
});

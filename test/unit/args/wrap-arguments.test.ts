import { describe, expect, it } from "vitest";
import { checkKnownKeys, parseEntry, shellJoin, toWrappedArguments, WrappedArguments, wrapArguments } from "../../../src/args/index.js";
import { ArgumentsError } from "../../../src/errors.js";

const EXAMPLE = `++prompt_config=generic/math ++inference.temperature=0.6 "++system='be brief'"`;

describe("WrappedArguments", () => {
  it("is argv and a shell string at once", () => {
    const args = wrapArguments(EXAMPLE);
    expect(args.argv).toEqual(["++prompt_config=generic/math", "++inference.temperature=0.6", "++system='be brief'"]);
    expect(args.toShell()).toBe(`++prompt_config=generic/math ++inference.temperature=0.6 '++system='\\''be brief'\\'''`);
    expect(String(args)).toBe(args.toShell());
    expect(`${args}`).toBe(args.toShell());
    expect(wrapArguments(args.toShell()).argv).toEqual(args.argv);
    expect([...args]).toEqual(args.argv);
    expect(args.length).toBe(3);
  });

  it("is immutable", () => {
    const args = wrapArguments("++a=1 b");
    expect(Object.isFrozen(args)).toBe(true);
    expect(Object.isFrozen(args.argv)).toBe(true);
    expect(Object.isFrozen(args.entries)).toBe(true);
    expect(Object.isFrozen(args.entries[0])).toBe(true);
    expect(() => (args.argv as string[]).push("x")).toThrow(TypeError);
  });

  it("fromArgv keeps every word verbatim and copies the array", () => {
    const argv = ["++a=b c", "", "$HOME", "it's", "~x"];
    const args = WrappedArguments.fromArgv(argv);
    argv.push("later");
    expect(args.argv).toEqual(["++a=b c", "", "$HOME", "it's", "~x"]);
    expect(args.toShell()).toBe(`'++a=b c' '' '$HOME' 'it'\\''s' '~x'`);
    expect(wrapArguments(args.toShell()).argv).toEqual(args.argv);
  });

  it("fromArgv rejects non-strings and NUL with clear messages", () => {
    expect(() => WrappedArguments.fromArgv(["a", 3 as unknown as string])).toThrow(new ArgumentsError("", 0, "WrappedArguments.fromArgv: argv[1] must be a string, got number (3)"));
    expect(() => WrappedArguments.fromArgv("a b" as unknown as string[])).toThrow("WrappedArguments.fromArgv: expected an array of strings, got string");
    expect(() => WrappedArguments.fromArgv(["ok", "a\0b"])).toThrow(/^WrappedArguments\.fromArgv: argv\[1\]: NUL character \(no process argument can hold one\) at column 2 in: a\u2400b/);
  });

  it("toJSON is the shell string, which reads back into the same argv", () => {
    const args = wrapArguments(`'a b' c`);
    expect(JSON.stringify({ args })).toBe(`{"args":"'a b' c"}`);
    expect(wrapArguments(JSON.parse(JSON.stringify(args)) as string).argv).toEqual(args.argv);
  });

  it("empty input is empty argv and an empty string", () => {
    const args = wrapArguments("");
    expect(args.argv).toEqual([]);
    expect(args.toShell()).toBe("");
    expect(args.keys()).toEqual([]);
  });

  it("concat returns a new value and leaves both sides untouched", () => {
    const a = wrapArguments("++a=1");
    const b = wrapArguments("++b=2");
    const c = a.concat(b, "++c='x y'", ["++d=4 5"]);
    expect(c).not.toBe(a);
    expect(c.argv).toEqual(["++a=1", "++b=2", "++c=x y", "++d=4 5"]);
    expect(a.argv).toEqual(["++a=1"]);
    expect(b.argv).toEqual(["++b=2"]);
    expect(a.concat().argv).toEqual(a.argv);
  });

  it("parse is wrapArguments", () => {
    expect(WrappedArguments.parse("a 'b c'").argv).toEqual(["a", "b c"]);
  });
});

describe("entries", () => {
  it.each([
    ["++a.b=1", "++", "a.b", "1"],
    ["+a=1", "+", "a", "1"],
    ["~foo", "~", "foo", undefined],
    ["~foo=bar", "~", "foo", "bar"],
    ["++key", "++", "key", undefined],
    ["++a=", "++", "a", ""],
    ["++a=b=c", "++", "a", "b=c"],
    ["++system='be brief'", "++", "system", "'be brief'"],
    ["++x=value with spaces", "++", "x", "value with spaces"],
    ["a.b=1", "", "a.b", "1"],
    ["hydra/launcher=joblib", "", "hydra/launcher", "joblib"],
    ["+db@pkg=mysql", "+", "db@pkg", "mysql"],
    ["++list.0=x", "++", "list.0", "x"],
    ["--flag", "", undefined, undefined],
    ["--opt=x", "", undefined, undefined],
    ["positional", "", undefined, undefined],
    ["~/data/file", "", undefined, undefined],
    ["~", "", undefined, undefined],
    ["++", "", undefined, undefined],
    ["++=1", "", undefined, undefined],
    ["+ x", "", undefined, undefined],
    ["=1", "", undefined, undefined],
    ["1=2", "", undefined, undefined],
    ["", "", undefined, undefined],
  ])("%j → prefix %j, key %j, value %j", (word, prefix, key, value) => {
    expect(parseEntry(word)).toEqual({ prefix, key, value, raw: word });
  });

  it("entries follow argv one to one, and prefixes stay in argv", () => {
    const args = wrapArguments(`++a.b=1 +c=2 ~d --flag pos`);
    expect(args.argv).toEqual(["++a.b=1", "+c=2", "~d", "--flag", "pos"]);
    expect(args.entries.map((e) => e.raw)).toEqual(args.argv);
    expect(args.entries.map((e) => e.prefix)).toEqual(["++", "+", "~", "", ""]);
  });

  it("keys() lists override keys once, in order of first appearance", () => {
    expect(wrapArguments("++b=1 --flag +a=2 ++b=3 ~c x=1").keys()).toEqual(["b", "a", "c", "x"]);
  });

  it("get() gives the last value; a later delete unsets it", () => {
    const args = wrapArguments("++t=0.6 ++t=0.7 ++u=1 ~u ++v ~w ~w=1 ++w=2");
    expect(args.get("t")).toBe("0.7");
    expect(args.get("u")).toBeUndefined();
    expect(args.get("v")).toBeUndefined();
    expect(args.get("w")).toBe("2");
    expect(args.get("missing")).toBeUndefined();
    expect(args.has("u")).toBe(true);
    expect(args.has("missing")).toBe(false);
    expect(wrapArguments("++a.b=1").get("a")).toBeUndefined();
  });
});

describe("toWrappedArguments", () => {
  it("accepts a string, an argv array, or WrappedArguments", () => {
    const w = wrapArguments("a");
    expect(toWrappedArguments(w)).toBe(w);
    expect(toWrappedArguments("a 'b c'").argv).toEqual(["a", "b c"]);
    expect(toWrappedArguments(["a b"]).argv).toEqual(["a b"]);
    expect(() => toWrappedArguments(5 as unknown as string)).toThrow("toWrappedArguments: expected a string, an argv array or WrappedArguments, got number (5)");
  });

  it("wrapArguments points a WrappedArguments back to where it came from", () => {
    expect(() => wrapArguments(wrapArguments("a") as unknown as string)).toThrow(
      "wrapArguments: expected a string, got object (WrappedArguments); it is already parsed, pass it on as it is (or use toWrappedArguments())",
    );
  });
});

describe("checkKnownKeys", () => {
  const known = ["inference", "prompt_config", "server.host", "max_samples"];

  it("accepts known top-level keys, keys under them, and known dotted keys", () => {
    expect(checkKnownKeys("++inference.temperature=0.6 +prompt_config=x ++server.host=h ++server.host.ipv6=1 ++max_samples=3", known, "ctx")).toEqual([]);
  });

  it("reports unknown ++/+ keys with a did-you-mean suggestion", () => {
    const problems = checkKnownKeys(["++inferenc.temperature=0.6", "--flag", "+prompt_confg=generic/math", "++server.hots=h"], known, 'step "generate"');
    expect(problems).toEqual([
      {
        index: 0,
        word: "++inferenc.temperature=0.6",
        key: "inferenc.temperature",
        suggestion: "inference.temperature",
        message: 'step "generate": unknown key "inferenc.temperature" in "++inferenc.temperature=0.6"; did you mean "inference.temperature"?',
      },
      {
        index: 2,
        word: "+prompt_confg=generic/math",
        key: "prompt_confg",
        suggestion: "prompt_config",
        message: 'step "generate": unknown key "prompt_confg" in "+prompt_confg=generic/math"; did you mean "prompt_config"?',
      },
      {
        index: 3,
        word: "++server.hots=h",
        key: "server.hots",
        suggestion: "server.host",
        message: 'step "generate": unknown key "server.hots" in "++server.hots=h"; did you mean "server.host"?',
      },
    ]);
  });

  it("lists the known keys when nothing is close (and there are few)", () => {
    expect(checkKnownKeys("++zzzzzz=1", known, "ctx")).toEqual([
      {
        index: 0,
        word: "++zzzzzz=1",
        key: "zzzzzz",
        suggestion: undefined,
        message: 'ctx: unknown key "zzzzzz" in "++zzzzzz=1" (known keys: inference, prompt_config, server.host, max_samples)',
      },
    ]);
    const many = Array.from({ length: 20 }, (_, i) => `key${i}`);
    expect(checkKnownKeys("++zzzzzz=1", many, "ctx")[0]?.message).toBe('ctx: unknown key "zzzzzz" in "++zzzzzz=1"');
  });

  it("does not check ~deletes, plain key=value, flags or positionals", () => {
    expect(checkKnownKeys("~nope nope=1 --nope nope", known, "ctx")).toEqual([]);
  });

  it("a key that merely starts like a known one is not known", () => {
    expect(checkKnownKeys("++inference_x=1", ["inference"], "ctx").map((p) => p.suggestion)).toEqual(["inference"]);
  });

  it("works on the shell string of fromArgv output", () => {
    const args = WrappedArguments.fromArgv(["++prompt_confg=a b"]);
    expect(checkKnownKeys(shellJoin(args.argv), known, "ctx")[0]?.key).toBe("prompt_confg");
  });
});

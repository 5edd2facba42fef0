/**
 * fitLine: a line wider than the terminal loses whole words from its end and gets "…"; it never
 * ends mid-word (unless its first word alone is too wide), never exceeds the width, counts wide
 * characters as two columns and colour codes as none, and never leaves a colour open.
 */
import stringWidth from "string-width";
import { describe, expect, it } from "vitest";
import { fitLine } from "../../../src/cli/fit-width.js";
import { mulberry32 } from "../helpers.js";

const red = (w: string) => `\x1b[31m${w}\x1b[39m`;

describe("fitLine", () => {
  it("keeps a line that fits, and cuts one that does not after a whole word", () => {
    expect(fitLine("  fails  failed  1.0s", 40)).toBe("  fails  failed  1.0s");
    expect(fitLine("  fails  failed  1.0s  exited with code 1 (job gd-1-fails-a1)", 40)).toBe("  fails  failed  1.0s  exited with code…");
    expect(fitLine("alpha beta gamma", 11)).toBe("alpha beta…");
    expect(fitLine("alpha beta gamma", 10)).toBe("alpha…");
  });

  it("cuts the first word only when it alone is too wide", () => {
    expect(fitLine("  supercalifragilistic rest", 10)).toBe("  superca…");
  });

  it("counts wide characters as two columns and colour codes as none; a colour is never left open", () => {
    expect(fitLine("步骤 失败 原因很长的说明", 10)).toBe("步骤 失败…");
    const coloured = `  step  ${red("failed")}  because of a long reason`;
    expect(fitLine(coloured, 200)).toBe(coloured);
    expect(fitLine(coloured, 20)).toBe(`  step  ${red("failed")}…`);
    expect(fitLine(coloured, 10)).toBe("  step…");
  });

  it("on random lines: never wider than the width, and what is kept is the line's start up to a word end", () => {
    const next = mulberry32(10);
    const words = ["a", "bb", "tokenizer_config.json", "(job", "gd-x-a1);", "步骤", "—", "exited", "…x"];
    for (let i = 0; i < 2000; i++) {
      const line = Array.from({ length: 1 + Math.floor(next() * 30) }, () => words[Math.floor(next() * words.length)]!).join(next() < 0.2 ? "  " : " ");
      const columns = 5 + Math.floor(next() * 80);
      const fitted = fitLine(line, columns);
      expect(stringWidth(fitted), `${JSON.stringify(line)} at ${columns}`).toBeLessThanOrEqual(columns);
      if (fitted === line) continue;
      expect(fitted.endsWith("…")).toBe(true);
      const kept = fitted.slice(0, -1);
      expect(line.startsWith(kept)).toBe(true);
      const firstWordCut = !/\S\s/.test(line.slice(0, kept.length + 1)) && line[kept.length] !== " ";
      if (!firstWordCut) expect(line[kept.length], `${JSON.stringify(fitted)} ends at a word end`).toBe(" ");
    }
  });
});

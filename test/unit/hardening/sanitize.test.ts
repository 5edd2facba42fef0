/**
 * Text from Slurm or a job (failure reasons with stderr tails, `logs` output) is shown in the
 * user's terminal only through sanitizeForTerminal: escape sequences and control characters go,
 * newlines, tabs and all printable Unicode stay.
 */
import { describe, expect, it } from "vitest";
import { sanitizeForTerminal } from "../../../src/cli/sanitize.js";

describe("sanitizeForTerminal", () => {
  it.each([
    ["ANSI colours", "\x1b[31mred\x1b[0m and \x1b[1;32mbold green\x1b[m", "red and bold green"],
    ["cursor movement and erase", "ok\x1b[2K\x1b[1A\x1b[10;20Hthere\x1b[?25l", "okthere"],
    ["OSC title, BEL-terminated", "\x1b]0;pwned title\x07after", "after"],
    ["OSC 8 hyperlink, ST-terminated", "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\", "click"],
    ["carriage return (overwrite the line)", "progress 10%\rprogress 100%\r\n", "progress 10%progress 100%\n"],
    ["NUL, backspace, bell, form feed, vertical tab, DEL", "a\x00b\x08c\x07d\x0ce\x0bf\x7fg", "abcdefg"],
    ["C1 controls (8-bit CSI, NEL)", "x\x9b31my\x85z", "xyz"],
    ["two-byte escapes (RIS reset, keypad mode, save cursor)", "a\x1bcb\x1b=c\x1b7d", "abcd"],
    ["charset selection (nF escape)", "a\x1b(0b\x1b(Bc", "abc"],
    ["DCS string with payload", "a\x1bP1$r0m\x1b\\b", "ab"],
    ["newline and tab kept", "line 1\n\tindented\nline 3", "line 1\n\tindented\nline 3"],
    ["unicode kept", "accuracy → 0.95 ✓ 日本語 émoji 🚀", "accuracy → 0.95 ✓ 日本語 émoji 🚀"],
  ])("%s", (_, input, expected) => {
    expect(sanitizeForTerminal(input)).toBe(expected);
  });

  it("leaves no ESC or other control character in random bytes", () => {
    let text = "";
    for (let i = 0; i < 20_000; i++) text += String.fromCharCode((i * 7919) % 256);
    const clean = sanitizeForTerminal(text);
    expect(clean).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  });

  it("a job failure reason with a hostile stderr tail prints clean", () => {
    const reason = "exited with code 3 (job 12); stderr tail:\nTraceback\x1b]0;owned\x07\n\x1b[2J\x1b[HValueError: bad\r";
    expect(sanitizeForTerminal(reason)).toBe("exited with code 3 (job 12); stderr tail:\nTraceback\nValueError: bad");
  });
});

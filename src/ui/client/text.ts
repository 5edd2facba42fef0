/**
 * Job text made fit to show: ANSI escape sequences and other control characters removed,
 * `\r`-rewritten progress lines left in their last state (as `src/cli/progress-lines.ts` does for
 * the terminal). Shown through Preact, so markup in it stays text.
 *
 * @module
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** Removes escape sequences and control characters (keeps `\n`, `\t`, `\r`). */
export function stripControl(text: string): string {
  return text.replace(ESCAPES, "");
}

/** What is left of one line after its carriage returns. */
function lastState(line: string): string {
  const parts = (line.endsWith("\r") ? line.slice(0, -1) : line).split("\r");
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i] !== "") return parts[i]!;
  return "";
}

/** Collapses a whole text's `\r` rewrites (the last line may be partial). */
export function collapseProgress(text: string): string {
  return text.split("\n").map(lastState).join("\n");
}

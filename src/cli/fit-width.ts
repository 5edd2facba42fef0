/**
 * Lines cut to the terminal's width, so that a live view never wraps (a redraw erases exactly
 * the lines it drew): a line too wide loses whole words from its end and gets "…"; a word is cut
 * only when the first word alone is wider than the terminal. Widths are terminal columns
 * (`string-width`: wide characters count 2, colour codes 0).
 *
 * @module
 */
import stringWidth from "string-width";

const ELLIPSIS = "…";
// Colour codes (SGR) only: lines given here are already sanitized of every other escape.
const SGR = /\x1b\[[0-9;]*m/g;

/**
 * `line` cut to at most `columns` columns at a word boundary, ending with "…" when cut.
 * Words are runs of non-spaces; colour codes must not span a space (paint single words).
 */
export function fitLine(line: string, columns: number): string {
  if (stringWidth(line) <= columns) return line;
  const room = Math.max(0, columns - 1); // for the ellipsis
  const tokens = line.split(/( +)/);
  let kept = "";
  for (const token of tokens) {
    if (token === "") continue;
    if (stringWidth(kept + token) > room) break;
    kept += token;
  }
  kept = kept.trimEnd();
  if (kept.trim() !== "") return kept + ELLIPSIS;
  // The first word alone does not fit: cut it (there is no word boundary to cut at).
  const leading = /^ */.exec(line)![0];
  let cut = leading;
  for (const char of line.slice(leading.length).replace(SGR, "")) {
    if (stringWidth(cut + char) > room) break;
    cut += char;
  }
  return cut + ELLIPSIS;
}

/** Every line of `lines` fitted to `columns` (see {@link fitLine}). */
export function fitLines(lines: readonly string[], columns: number): string[] {
  return lines.map((l) => fitLine(l, columns));
}

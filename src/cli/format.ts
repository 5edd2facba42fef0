/**
 * Small formatters for terminal output: durations, times, aligned tables.
 *
 * @module
 */
import { hasControlCharacters, sanitizeForTerminal } from "./sanitize.js";

/** `850ms`, `12.3s`, `4m05s`, `2h03m`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(sec).padStart(2, "0")}s`;
}

/** Local `YYYY-MM-DD HH:MM:SS`, or `-`. */
export function formatTime(at: number | undefined): string {
  if (at === undefined || !Number.isFinite(at)) return "-";
  const d = new Date(at);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * An aligned text table: a header row and rows of cells, columns separated by two spaces. Cells
 * are sanitized (they may hold text that came from jobs) and kept on one line. `paint[i]`
 * colours the cells of column `i` (not the header) after they are aligned.
 */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, options: { paint?: ReadonlyArray<((cell: string) => string) | undefined> } = {}): string {
  // Most cells hold no control character at all: those are kept as they are (tables of thousands of rows).
  const clean = (cell: string) => (hasControlCharacters(cell) ? sanitizeForTerminal(cell).replace(/[\n\t]+/g, " ") : cell);
  const all = [header.map(clean), ...rows.map((r) => r.map(clean))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return (
    all
      .map((r, row) =>
        r
          .map((cell, i) => {
            const paint = row === 0 ? undefined : options.paint?.[i];
            const shown = paint ? paint(cell) : cell;
            return i === r.length - 1 ? shown : shown + " ".repeat(Math.max(0, (widths[i] ?? 0) - cell.length));
          })
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

/** A `[#####-----]` bar of `width` cells for `done / total`. */
export function progressBar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

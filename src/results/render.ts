/**
 * Cells and tables in the formats results are printed as: CSV (RFC 4180), markdown, HTML. Text
 * in cells may come from jobs (metric names, parameters): it is escaped for each format, and a
 * CSV cell that a spreadsheet would run as a formula is prefixed with `'`.
 *
 * @module
 */

/** Output formats of tables. */
export const TABLE_FORMATS = ["text", "json", "csv", "markdown", "html"] as const;
/** One of {@link TABLE_FORMATS}. */
export type TableFormat = (typeof TABLE_FORMATS)[number];

/** A number for people: integers as they are, others to 4 decimals (trailing zeros dropped); `-` for none. */
export function formatNumber(value: number | undefined, options: { signed?: boolean; digits?: number } = {}): string {
  if (value === undefined || Number.isNaN(value)) return "-";
  if (!Number.isFinite(value)) return String(value);
  const digits = options.digits ?? 4;
  const abs = Math.abs(value);
  let text = Number.isInteger(value) ? String(value) : abs !== 0 && abs < 10 ** -digits ? value.toPrecision(3) : String(Number(value.toFixed(digits)));
  if (text === "-0") text = "0";
  return options.signed && value > 0 ? `+${text}` : text;
}

/** Rounds half away from zero to `digits` decimals, exactly for decimal inputs (`1.005` → `1.01`). */
export function roundTo(value: number, digits: number): number {
  if (!Number.isFinite(value)) return value;
  const sign = value < 0 ? -1 : 1;
  const shifted = Math.round(Number(`${Math.abs(value)}e${digits}`));
  return sign * Number(`${shifted}e-${digits}`);
}

/** One CSV line (with `\n`). */
export function csvLine(cells: readonly string[]): string {
  return cells.map(csvCell).join(",") + "\n";
}

function csvCell(cell: string): string {
  const safe = /^[=+\-@\t\r]/.test(cell) && !/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(cell) ? `'${cell}` : cell;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A markdown table. */
export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]) => `| ${cells.map(markdownCell).join(" | ")} |\n`;
  return line(header) + `|${header.map(() => " --- ").join("|")}|\n` + rows.map(line).join("");
}

/** Text safe in a markdown table cell. */
export function markdownCell(cell: string): string {
  return cell
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/[\r\n]+/g, " ")
    .replace(/[<>]/g, (c) => (c === "<" ? "&lt;" : "&gt;"));
}

/** Text safe in HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** An HTML table (cells escaped; `bold[i]` marks row `i` as a summary row). */
export function htmlTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, options: { bold?: readonly boolean[] } = {}): string {
  const head = `<tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr>`;
  const body = rows
    .map((r, i) => `<tr${options.bold?.[i] ? ' class="summary"' : ""}>${r.map((c) => `<td>${options.bold?.[i] && c !== "" ? `<strong>${escapeHtml(c)}</strong>` : escapeHtml(c)}</td>`).join("")}</tr>`)
    .join("\n");
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>\n`;
}

/** `text` without C0/C1 control characters (escape sequences lose their ESC), except those in `keep`. */
export function stripControl(text: string, keep = "\n\t"): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if ((code < 0x20 || (code >= 0x7f && code <= 0x9f)) && !keep.includes(ch)) continue;
    out += ch;
  }
  return out;
}

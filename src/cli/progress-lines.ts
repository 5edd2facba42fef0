/**
 * Job logs rewritten with carriage returns (tqdm, pip, curl progress bars) shown as a terminal
 * would leave them: each line in its last state. `"10%\r50%\r100%\n"` becomes `"100%\n"`; a
 * CRLF line ending is an ending, not a rewrite. Text arrives in chunks, so the line still being
 * written is held back until its newline (or {@link CarriageReturnCollapser.end}).
 *
 * @module
 */

/** Collapses `\r`-rewritten lines of a stream of text; see the module comment. */
export class CarriageReturnCollapser {
  #partial = "";

  /** Feeds a chunk; returns the complete lines it finished, collapsed. */
  push(chunk: string): string {
    const text = this.#partial + chunk;
    const cut = text.lastIndexOf("\n");
    if (cut === -1) {
      this.#partial = text;
      return "";
    }
    this.#partial = text.slice(cut + 1);
    return text
      .slice(0, cut + 1)
      .split("\n")
      .map(lastState)
      .join("\n");
  }

  /** The line still being written, in its last state (call once, at the end). */
  end(): string {
    const rest = lastState(this.#partial);
    this.#partial = "";
    return rest;
  }
}

/** What is left of one line (no `\n`) after its carriage returns. */
export function lastState(line: string): string {
  const body = line.endsWith("\r") ? line.slice(0, -1) : line;
  const parts = body.split("\r");
  // The last redraw that wrote something (a bare `\r` moves the cursor and erases nothing).
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i] !== "") return parts[i]!;
  return "";
}

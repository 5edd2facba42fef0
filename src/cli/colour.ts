/**
 * Colour for states in the CLI's output (`status`, `runs`, `watch`, `run`'s progress lines):
 * green for done, red for failed, cyan for running, yellow for waiting, dim for not yet started.
 *
 * Whether to colour follows the usual conventions: `NO_COLOR` set (not empty) turns it off,
 * `FORCE_COLOR` set turns it on (`FORCE_COLOR=0` / `false` off), else colour only when the
 * stream is a terminal (and `TERM` is not `dumb`). The decision is taken here rather than by
 * picocolors' own detection, which also colours piped output whenever `CI` is set.
 *
 * @module
 */
import pc from "picocolors";

/** Formatters (picocolors'), all of them plain when colour is off. */
export type Colours = ReturnType<typeof pc.createColors>;

/** True when output to `stream` gets colour; see the module comment. */
export function colourEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env["NO_COLOR"]) return false;
  const force = env["FORCE_COLOR"];
  if (force !== undefined && force !== "") return force !== "0" && force.toLowerCase() !== "false";
  return stream.isTTY === true && env["TERM"] !== "dumb";
}

/** Formatters for output to `stream` (stdout by default). */
export function coloursFor(stream: { isTTY?: boolean } = process.stdout): Colours {
  return pc.createColors(colourEnabled(stream));
}

/** No colour at all (output that is not for a terminal: controller logs, JSON). */
export const NO_COLOURS: Colours = pc.createColors(false);

/** The colour of each state word (step, run and event states). */
const STATE_COLOUR: Readonly<Record<string, keyof Colours>> = {
  succeeded: "green",
  cached: "green",
  success: "green",
  failed: "red",
  FAILED: "red",
  running: "cyan",
  start: "cyan",
  starting: "cyan",
  queued: "yellow",
  waiting: "yellow",
  interrupted: "yellow",
  pending: "dim",
  skipped: "gray",
  cancelled: "magenta",
};

/** `text` (default the state word itself) in the colour of `state`; unchanged for other words. */
export function paintState(colours: Colours, state: string, text: string = state): string {
  const name = STATE_COLOUR[state];
  const format = name === undefined ? undefined : colours[name];
  return typeof format === "function" ? format(text) : text;
}

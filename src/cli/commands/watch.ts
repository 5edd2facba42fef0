/**
 * `gpu-dag watch <run>`: a live view until the run ends — done / running / pending counts,
 * elapsed time, a progress bar and each step's state (coloured) with its reason — redrawn in
 * place on a terminal, as plain lines (one per change, no cursor movement) otherwise. Exit codes
 * as `wait`.
 *
 * The redraw is log-update's (it erases the lines it drew last time); every line is cut to the
 * terminal's width at a word boundary first, so none wraps and the redraw is exact.
 *
 * @module
 */
import { createLogUpdate } from "log-update";
import { CliUsageError, ExitCode } from "../cli-error.js";
import { type Colours, coloursFor, NO_COLOURS, paintState } from "../colour.js";
import { type CliContext, note, openStore, out, printJson } from "../context.js";
import { viewHints } from "../failure-hints.js";
import { fitLines } from "../fit-width.js";
import { followRun } from "../follow-run.js";
import { formatDuration, progressBar } from "../format.js";
import { mapCounts, mapRows, shortElementLines } from "../map-summary.js";
import { isFinished, type RunView } from "../run-view.js";
import { sanitizeForTerminal } from "../sanitize.js";
import { statusDocument } from "./status.js";

/** The one-line summary (also the non-TTY output). */
export function summaryLine(view: RunView, colours: Colours = NO_COLOURS): string {
  const c = view.counts;
  const parts = [`${c.done}/${c.total} done`, `${c.running} running`, `${c.queued} queued`, `${c.pending} pending`];
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.skipped) parts.push(`${c.skipped} skipped`);
  if (c.cancelled) parts.push(`${c.cancelled} cancelled`);
  // While the cluster connection is down, or the run waits for the runs it runs after (nothing
  // started yet), say so (the latest notice says it).
  const notice = view.stored.replay.notice;
  const down =
    (notice?.kind === "connection-lost" || (notice?.kind === "run-after" && view.counts.done + view.counts.running + view.counts.queued === 0)) && !isFinished(view.state)
      ? `  [${sanitizeForTerminal(notice.message).replace(/\n/g, " ")}]`
      : "";
  return `${progressBar(c.done, c.total, 20)} ${paintState(colours, view.state)}  ${parts.join(", ")}${down}  elapsed ${formatDuration(view.durationMs)}`;
}

/** Why queued steps wait (e.g. `g1: waiting for GPU: GPU 0 held by run X step Y (pid N)`), one line each. */
export function waitingLines(view: RunView): string[] {
  return Object.values(view.result.steps)
    .filter((s) => s.status === "queued" && s.reason)
    .map((s) => `  ${s.name}: ${oneLine(s.reason!)}`);
}

/** The full view redrawn on a terminal (not yet cut to its width). */
export function renderWatch(view: RunView, colours: Colours = NO_COLOURS): string[] {
  const r = view.stored.record;
  const lines = [`run ${r.id}  ${r.projectName}/${r.pipelineName}`, summaryLine(view, colours)];
  const { rows: maps, elements } = mapRows(view.stored, view.result.steps);
  const steps = Object.values(view.result.steps).filter((s) => !elements.has(s.name));
  const width = Math.max(...steps.map((s) => s.name.length), 4);
  for (const s of steps) {
    const map = maps.get(s.name);
    if (map) {
      lines.push(`  ${s.name.padEnd(width)}  ${paintState(colours, map.status)}${" ".repeat(Math.max(0, 9 - map.status.length))}  ${mapCounts(map)}`, ...shortElementLines(map, "      "));
      continue;
    }
    const running = s.status === "running" && s.startedAt !== undefined ? Date.now() - s.startedAt : undefined;
    const time = s.durationMs ?? running;
    const reason = s.reason && (s.status === "failed" || s.status === "skipped" || s.status === "queued") ? `  ${oneLine(s.reason)}` : "";
    // Padding outside the colour, so a colour code never spans a space (see fitLine).
    const state = paintState(colours, s.status) + " ".repeat(Math.max(0, 9 - s.status.length));
    lines.push(`  ${s.name.padEnd(width)}  ${state}  ${time === undefined ? "" : formatDuration(time)}${reason}`.trimEnd());
  }
  return lines;
}

/** Job text on one line, safe for the terminal. */
function oneLine(text: string): string {
  return sanitizeForTerminal(text).replace(/\n/g, " ");
}

/** See the module comment. */
export async function watchCommand(context: CliContext, runId: string, options: { json?: boolean; interval: string }): Promise<number> {
  const pollMs = Number(options.interval);
  if (!(Number.isFinite(pollMs) && pollMs >= 50)) throw new CliUsageError(`--interval must be a number of milliseconds ≥ 50, got ${JSON.stringify(options.interval)}`);
  const store = await openStore(context);
  const live = context.isTTY && !options.json;
  const colours = options.json ? NO_COLOURS : coloursFor(process.stdout);
  const draw = live ? createLogUpdate(process.stdout) : undefined;
  let lastLine = "";
  const outcome = await followRun(store, runId, {
    pollMs,
    onView: (view) => {
      if (options.json) return;
      if (draw) {
        draw(fitLines(renderWatch(view, colours), process.stdout.columns || 80).join("\n"));
        return;
      }
      // Plain output: a line only when something changed (elapsed time alone does not count).
      // Why steps wait goes with it (a new reason is a change too).
      const line = summaryLine(view, colours);
      const waiting = waitingLines(view);
      const key = [summaryLine(view).replace(/elapsed .*$/, ""), ...waiting].join("\n");
      if (key !== lastLine) {
        out([line, ...waiting].join("\n") + "\n");
        lastLine = key;
      }
    },
  }).finally(() => draw?.done());
  const { view } = outcome;
  if (options.json) printJson({ ...statusDocument(view), outcome: outcome.kind });
  if (outcome.kind === "orphaned") {
    note(`gpu-dag: run ${runId} is unfinished and no controller holds it; continue it with \`gpu-dag resume ${runId}\``);
    return ExitCode.RunFailed;
  }
  if (!options.json) out(`run ${runId} ${paintState(colours, view.state)} in ${formatDuration(view.durationMs)}\n`);
  for (const hint of viewHints(view)) (options.json ? note : (l: string) => out(l + "\n"))(hint);
  return view.state === "succeeded" ? ExitCode.Ok : ExitCode.RunFailed;
}

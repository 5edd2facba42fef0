/**
 * Live progress of a run driven in this process: one line per event, on a clock that starts
 * with the command (or wall-clock time, for controller logs).
 *
 * @module
 */
import type { RunEvent, RunEventListener, RunResult } from "../runner/run-types.js";
import { type Colours, NO_COLOURS, paintState } from "./colour.js";
import { formatDuration } from "./format.js";
import { sanitizeForTerminal } from "./sanitize.js";

/** Options of {@link progressPrinter}. */
export interface ProgressOptions {
  /** `elapsed`: seconds since start (terminals); `iso`: timestamps (log files). */
  clock: "elapsed" | "iso";
  write: (line: string) => void;
  /** Colours of the event words (`success`, `FAILED`, …); none by default. */
  colours?: Colours;
}

/** A listener printing one line per run event. */
export function progressPrinter(options: ProgressOptions): RunEventListener {
  const started = Date.now();
  const clock = () => (options.clock === "iso" ? new Date().toISOString() : `${((Date.now() - started) / 1000).toFixed(1)}s`.padStart(7));
  return (event: RunEvent) => {
    const line = describeEvent(event);
    if (!line) return;
    // Coloured after sanitizing (which would strip the colour): the event word only.
    const text = sanitizeForTerminal(line).replace(/\n/g, " ");
    const word = /^\S+/.exec(text)?.[0] ?? "";
    options.write(`${clock()}  ${paintState(options.colours ?? NO_COLOURS, word)}${text.slice(word.length)}`);
  };
}

/** One event as text, or `undefined` for events not worth a line. */
export function describeEvent(event: RunEvent): string | undefined {
  switch (event.type) {
    case "step:queued":
      return `queued   ${event.step} (attempt ${event.attempt}, queue ${event.queue}, job ${event.jobId})`;
    case "step:waiting":
      return event.reason ? `waiting  ${event.step}: ${event.reason}` : undefined;
    case "step:start":
      return `start    ${event.step}`;
    case "step:success": {
      const metrics = Object.entries(event.outputs.metrics).map(([k, v]) => `${k}=${v}`);
      const extra = [event.cached ? "cached" : "", event.outputs.simulated ? "simulated" : "", metrics.length ? metrics.join(" ") : ""].filter(Boolean);
      return `success  ${event.step}${extra.length ? `  (${extra.join(", ")})` : ""}`;
    }
    case "step:failure":
      return `FAILED   ${event.step}: ${event.reason}${event.willRetry ? " (will retry)" : ""}`;
    case "step:skipped":
      return `skipped  ${event.step}: ${event.reason}`;
    case "run:notice":
      return `notice   ${event.message}`;
    case "run:complete":
      return undefined;
  }
}

/** The closing summary of a run: status, duration, step counts, metrics and models. */
export function describeResult(result: RunResult, colours: Colours = NO_COLOURS): string {
  const steps = Object.values(result.steps);
  const byStatus = new Map<string, number>();
  for (const s of steps) byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + 1);
  const counts = [...byStatus].map(([status, n]) => `${n} ${status}`).join(", ");
  // Sanitized piece by piece, so that only gpu-dag's own colour codes reach the terminal.
  const clean = sanitizeForTerminal;
  const lines = [
    `run ${clean(result.runId)} ${paintState(colours, result.status)} in ${formatDuration(result.endedAt - result.startedAt)} (${counts})${result.simulated ? " [SIMULATED runtime]" : ""}`,
  ];
  if (result.reason) lines.push(clean(`  reason  ${result.reason}`));
  for (const [step, metrics] of Object.entries(result.metrics)) {
    for (const [name, value] of Object.entries(metrics)) lines.push(clean(`  metric  ${step}.${name} = ${value}`));
  }
  for (const model of result.models) lines.push(clean(`  model   ${model.id}  ${model.name}  (step ${model.step})`));
  for (const s of steps) {
    if ((s.status === "failed" || s.status === "skipped") && s.reason) {
      lines.push(`  ${paintState(colours, s.status, s.status === "failed" ? "failed " : "skipped")} ${clean(`${s.name}: ${s.reason}`)}`);
    }
  }
  return lines.join("\n") + "\n";
}

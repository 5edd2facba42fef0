/**
 * `gpu-dag status <run>`: the run's state and a table of its steps, with the reason of every
 * failed, skipped or cancelled step, and of every queued step that waits on something (e.g.
 * `waiting for GPU: GPU 0 held by run X step Y (pid N)`).
 *
 * @module
 */
import { ExitCode } from "../cli-error.js";
import { type Colours, coloursFor, NO_COLOURS, paintState } from "../colour.js";
import { type CliContext, note, openStore, out, printJson } from "../context.js";
import { viewHints } from "../failure-hints.js";
import { formatDuration, formatTable, formatTime } from "../format.js";
import { mapCounts, mapRows, shortElementLines } from "../map-summary.js";
import { loadRunView, type RunView } from "../run-view.js";
import { sanitizeForTerminal } from "../sanitize.js";

/** The JSON document of `status --json` (also `wait --json`, `watch --json`). */
export function statusDocument(view: RunView): Record<string, unknown> {
  return {
    ...view.result,
    status: view.state,
    journalStatus: view.result.status,
    cluster: view.stored.record.cluster,
    mode: view.stored.record.mode,
    counts: view.counts,
    durationMs: view.durationMs,
    ...(view.controller ? { controller: view.controller } : {}),
    ...(view.remoteController ? { controllerJob: view.remoteController } : {}),
    ...(view.stored.replay.notice ? { notice: view.stored.replay.notice } : {}),
  };
}

/** The text of `status` (state words coloured with `colours`). */
export function formatStatus(view: RunView, colours: Colours = NO_COLOURS): string {
  const r = view.stored.record;
  const header = [
    `run ${r.id}  ${r.projectName}/${r.pipelineName}  ${paintState(colours, view.state)}`,
    `cluster ${r.cluster.name}, started ${formatTime(view.result.startedAt)}, ${view.state === "running" || view.state === "interrupted" || view.state === "starting" ? "elapsed" : "took"} ${formatDuration(view.durationMs)}, ${view.counts.done}/${view.counts.total} steps done`,
  ];
  if (view.controller) header.push(`controller ${view.controller.owner}`);
  if (view.remoteController) header.push(`controller job ${view.remoteController.jobId} on the cluster (${view.remoteController.state || "gone"})`);
  if (view.remoteController?.warning) header.push(`warning: ${view.remoteController.warning}`);
  if (view.result.reason) header.push(`reason: ${sanitizeForTerminal(view.result.reason).replace(/\n/g, " ")}`);
  const notice = view.stored.replay.notice;
  if (notice) header.push(`${notice.kind === "run-after" ? "run after" : "cluster connection"}: ${sanitizeForTerminal(notice.message).replace(/\n/g, " ")} (at ${formatTime(notice.at)})`);
  if (view.state === "interrupted") header.push(`no controller holds this run: continue it with \`gpu-dag resume ${r.id}\``);
  // A map step is one row (its elements counted under it), not one row per element.
  const { rows: maps, elements } = mapRows(view.stored, view.result.steps);
  const steps = Object.values(view.result.steps).filter((s) => !elements.has(s.name));
  const table = formatTable(
    ["STEP", "STATE", "QUEUE", "JOB", "ATTEMPT", "DURATION", "EXIT"],
    steps.map((s) => {
      const map = maps.get(s.name);
      if (map) return [s.name, map.status, s.queue, mapCounts(map), "-", "-", "-"];
      const running = s.status === "running" && s.startedAt !== undefined ? Date.now() - s.startedAt : undefined;
      return [s.name, s.status, s.queue, s.jobId ?? "-", String(s.attempts), formatDuration(s.durationMs ?? running), s.exitCode === undefined || s.exitCode === null ? "-" : String(s.exitCode)];
    }),
    { paint: [undefined, (state) => paintState(colours, state)] },
  );
  const reasons = steps
    .filter((s) => s.reason && (s.status === "failed" || s.status === "skipped" || s.status === "cancelled" || s.status === "cached" || s.status === "queued"))
    .map((s) => `  ${s.name}: ${sanitizeForTerminal(s.reason!).replace(/\n/g, " ")}`);
  for (const map of maps.values()) reasons.push(...shortElementLines(map));
  return `${header.join("\n")}\n\n${table}${reasons.length ? `\nreasons:\n${reasons.join("\n")}\n` : ""}`;
}

/** See the module comment. */
export async function statusCommand(context: CliContext, runId: string, options: { json?: boolean }): Promise<number> {
  const store = await openStore(context);
  const view = await loadRunView(store, runId);
  if (options.json) printJson(statusDocument(view));
  else out(formatStatus(view, coloursFor(process.stdout)));
  // What to do about a failure: with --json on stderr, so stdout stays one document.
  for (const hint of viewHints(view)) (options.json ? note : (l: string) => out(l + "\n"))(hint);
  return ExitCode.Ok;
}

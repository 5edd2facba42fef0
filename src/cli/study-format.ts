/**
 * Text of the `study` commands: the trial table, the best trial, the status summary, progress lines.
 *
 * @module
 */

import type { StudyView } from "../study/study.js";
import type { StudyEvent } from "../study/study-events.js";
import type { TrialRow } from "../study/study-table.js";
import { formatDuration, formatTable } from "./format.js";

/** `x=4 y=1`. */
export function paramsText(params: TrialRow["params"]): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

/** An objective as shown: 6 significant digits; an imputed one marked `*`. */
export function objectiveText(row: { objective?: number | undefined; imputed?: boolean | undefined }): string {
  if (row.objective === undefined) return "-";
  return `${Number(row.objective.toPrecision(6))}${row.imputed ? "*" : ""}`;
}

/** The objective line: `maximize score.metrics["score"]`. */
export function objectiveLine(view: StudyView): string {
  const { goal, expression } = view.record.spec.objective;
  return `${goal} ${expression}`;
}

/** The sorted table of every trial (see `sortRows`). */
export function formatStudyTable(view: StudyView): string {
  const halving = view.record.spec.method === "halving";
  const names = Object.keys(view.record.spec.parameters);
  const header = ["TRIAL", ...(halving ? ["RUNG", view.record.spec.halving!.parameter] : []), ...names, "STATUS", "OBJECTIVE", "DURATION", "RUN", "NOTE"];
  const rows = view.table.map((t) => [
    String(t.trial),
    ...(halving ? [String(t.rung), String(t.budget ?? "-")] : []),
    ...names.map((n) => String(t.params[n] ?? "-")),
    t.status,
    objectiveText(t),
    formatDuration(t.durationMs),
    t.runId,
    t.reason ? (t.reason.length > 80 ? `${t.reason.slice(0, 79)}…` : t.reason) : t.attempt > 1 ? `attempt ${t.attempt}` : "",
  ]);
  const imputed = view.table.some((t) => t.imputed) ? "* imputed: the worst objective measured (onTrialFailure: worst)\n" : "";
  return `study ${view.studyId}${view.record.spec.name ? ` "${view.record.spec.name}"` : ""}: ${view.status}, ${objectiveLine(view)}\n${formatTable(header, rows)}${imputed}`;
}

/** Counts of trials by status. */
export function trialCounts(view: StudyView): { [S in TrialRow["status"]]: number } {
  const counts = { running: 0, interrupted: 0, succeeded: 0, failed: 0 };
  for (const t of view.trials) counts[t.status] += 1;
  return counts;
}

/** The status summary of `study status`. */
export function formatStudyStatus(view: StudyView, controller: string | undefined): string {
  const { spec, pipeline } = view.record;
  const c = trialCounts(view);
  const told = c.succeeded + c.failed;
  const lines = [
    `study ${view.studyId}${spec.name ? ` "${spec.name}"` : ""}: ${view.status}${controller ? ` (${controller})` : ""}`,
    `  pipeline ${pipeline.projectName}/${pipeline.pipelineName}, method ${spec.method}${spec.method === "halving" ? ` (eta ${spec.halving!.eta}, ${spec.halving!.parameter}: ${spec.halving!.rungs.join(" → ")})` : ""}, concurrency ${spec.concurrency}`,
    `  objective: ${objectiveLine(view)}`,
    `  trials: ${told} told (${c.succeeded} succeeded, ${c.failed} failed)${c.running ? `, ${c.running} running` : ""}${c.interrupted ? `, ${c.interrupted} interrupted` : ""}`,
  ];
  for (const t of view.trials.filter((t) => t.status === "running" || t.status === "interrupted")) lines.push(`    trial ${t.trial} ${t.status}: ${paramsText(t.params)} (run ${t.runId})`);
  lines.push(view.best ? `  best: trial ${view.best.trial}, objective ${objectiveText(view.best)} (${paramsText(view.best.params)}; run ${view.best.runId})` : "  best: none yet");
  if (view.status === "interrupted") lines.push(`  no controller drives it: \`gpu-dag study resume ${view.studyId}\` continues it`);
  return lines.join("\n") + "\n";
}

/** One progress line for a study event, or `undefined` for events not worth a line. */
export function studyEventLine(event: StudyEvent): string | undefined {
  if (event.type === "trial:asked") {
    const { asked } = event;
    const rung = asked.budget !== undefined ? ` [rung ${asked.rung}: ${asked.budget}]` : "";
    const verb = event.resumed ? "resumed" : asked.attempt > 1 ? `retried (attempt ${asked.attempt})` : "started";
    return `trial ${asked.trial} ${verb}: ${paramsText(asked.params)}${rung} (run ${asked.runId})`;
  }
  if (event.type === "trial:told") {
    const { told } = event;
    const duration = told.durationMs !== undefined ? ` (${formatDuration(told.durationMs)})` : "";
    if (told.status === "succeeded") return `trial ${told.trial} succeeded: objective ${objectiveText(told)}${duration}`;
    return `trial ${told.trial} failed${duration}: ${told.reason ?? "no reason"}${told.imputed ? ` (imputed ${objectiveText(told)})` : ""}`;
  }
  if (event.type === "study:complete") return `study ${event.studyId} ${event.status}`;
  return undefined;
}

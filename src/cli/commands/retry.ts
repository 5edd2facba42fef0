/**
 * `gpu-dag retry <run>`: run again what did not succeed in a finished run — failed, skipped and
 * cancelled steps and map elements — and what consumed their maps, keeping everything that
 * succeeded (a map's good elements are never run again, its collection is recomputed with the gaps
 * filled). It is `resume` for a run that has ended: refused while the run is still going.
 *
 * @module
 */
import { CliUsageError, ExitCode } from "../cli-error.js";
import { type CliContext, openStore, out } from "../context.js";
import { mapRows } from "../map-summary.js";
import { isFinished, loadRunView } from "../run-view.js";
import { type ResumeOptions, resumeCommand } from "./resume.js";

/** See the module comment. */
export async function retryCommand(context: CliContext, runId: string, options: Omit<ResumeOptions, "force">): Promise<number> {
  const store = await openStore(context);
  let again: string[];
  try {
    const view = await loadRunView(store, runId);
    if (!isFinished(view.state)) throw new CliUsageError(`run "${runId}" is ${view.state}: retry runs again what a finished run did not do (\`gpu-dag resume ${runId}\` continues an interrupted one)`);
    const { elements } = mapRows(view.stored, view.result.steps);
    again = Object.values(view.result.steps)
      .filter((s) => (s.status === "failed" || s.status === "skipped" || s.status === "cancelled") && !view.stored.maps.has(s.name))
      .map((s) => s.name);
    const named = again.filter((s) => !elements.has(s));
    const count = again.length - named.length;
    if (again.length === 0) {
      out(`run ${runId} ${view.state}: nothing to retry\n`);
      return ExitCode.Ok;
    }
    if (!options.json) out(`retrying run ${runId}: ${[...named, ...(count > 0 ? [`${count} map element${count === 1 ? "" : "s"}`] : [])].join(", ")}\n`);
  } finally {
    await store.close();
  }
  return resumeCommand(context, runId, { ...options, force: [] });
}

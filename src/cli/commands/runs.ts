/**
 * `gpu-dag runs`: every run in the store, newest first.
 *
 * @module
 */
import { ExitCode } from "../cli-error.js";
import { coloursFor, paintState } from "../colour.js";
import { type CliContext, openStore, out, printJson } from "../context.js";
import { formatDuration, formatTable, formatTime } from "../format.js";
import { loadRunView, type RunView } from "../run-view.js";

/** See the module comment. */
export async function runsCommand(context: CliContext, options: { json?: boolean }): Promise<number> {
  const store = await openStore(context);
  const records = await store.listRuns();
  const views: RunView[] = [];
  for (const record of records) views.push(await loadRunView(store, record.id));
  views.sort((a, b) => Date.parse(b.stored.record.createdAt) - Date.parse(a.stored.record.createdAt) || b.stored.record.id.localeCompare(a.stored.record.id));
  if (options.json) {
    printJson({
      store: context.home,
      runs: views.map((v) => ({
        runId: v.stored.record.id,
        projectName: v.stored.record.projectName,
        pipelineName: v.stored.record.pipelineName,
        status: v.state,
        cluster: v.stored.record.cluster.name,
        mode: v.stored.record.mode,
        steps: v.counts,
        createdAt: v.stored.record.createdAt,
        startedAt: v.result.startedAt,
        ...(v.stored.replay.endedAt !== undefined ? { endedAt: v.stored.replay.endedAt } : {}),
        durationMs: v.durationMs,
      })),
    });
    return ExitCode.Ok;
  }
  if (views.length === 0) {
    out(`no runs in ${context.home}\n`);
    return ExitCode.Ok;
  }
  out(
    formatTable(
      ["RUN", "PIPELINE", "STATUS", "STEPS", "STARTED", "DURATION"],
      views.map((v) => [
        v.stored.record.id,
        `${v.stored.record.projectName}/${v.stored.record.pipelineName}`,
        v.state,
        `${v.counts.done}/${v.counts.total}`,
        formatTime(v.result.startedAt),
        formatDuration(v.durationMs),
      ]),
      { paint: [undefined, undefined, (state) => paintState(coloursFor(process.stdout), state)] },
    ),
  );
  return ExitCode.Ok;
}

/**
 * `gpu-dag wait <run>`: block until the run ends. Exit 0 when it succeeded, 1 when it failed or
 * was cancelled (or no controller is driving it), 124 when `--timeout` passed first.
 *
 * @module
 */
import { CliUsageError, ExitCode } from "../cli-error.js";
import { coloursFor, paintState } from "../colour.js";
import { type CliContext, note, openStore, out, printJson } from "../context.js";
import { viewHints } from "../failure-hints.js";
import { followRun } from "../follow-run.js";
import { formatDuration } from "../format.js";
import { statusDocument } from "./status.js";

/** See the module comment. */
export async function waitCommand(context: CliContext, runId: string, options: { json?: boolean; timeout?: string }): Promise<number> {
  const timeout = options.timeout === undefined ? undefined : Number(options.timeout);
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout >= 0)) throw new CliUsageError(`--timeout must be a number of seconds, got ${JSON.stringify(options.timeout)}`);
  const store = await openStore(context);
  const outcome = await followRun(store, runId, timeout === undefined ? {} : { deadline: Date.now() + timeout * 1000 });
  const { view } = outcome;
  if (options.json) printJson({ ...statusDocument(view), outcome: outcome.kind });
  if (outcome.kind === "timeout") {
    note(`gpu-dag: run ${runId} is still ${view.state} after ${timeout}s (${view.counts.done}/${view.counts.total} steps done)`);
    return ExitCode.Timeout;
  }
  if (outcome.kind === "orphaned") {
    note(`gpu-dag: run ${runId} is unfinished and no controller holds it; continue it with \`gpu-dag resume ${runId}\``);
    return ExitCode.RunFailed;
  }
  if (!options.json) out(`run ${runId} ${paintState(coloursFor(process.stdout), view.state)} in ${formatDuration(view.durationMs)} (${view.counts.done}/${view.counts.total} steps done)\n`);
  for (const hint of viewHints(view)) (options.json ? note : (l: string) => out(l + "\n"))(hint);
  return view.state === "succeeded" ? ExitCode.Ok : ExitCode.RunFailed;
}

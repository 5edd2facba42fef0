/**
 * `gpu-dag cancel <run>`: a run with a live controller job on a cluster gets it `scancel`ed with
 * SIGTERM; a run with a live controller on this machine gets SIGTERM sent to that
 * controller (it cancels its jobs and journals the run as cancelled); a run without one has its
 * recorded in-flight jobs stopped and is journaled as cancelled here.
 *
 * @module
 */
import { hostname } from "node:os";
import { RunHandle } from "../../api/run-handle.js";
import { cancelOffline } from "../cancel-offline.js";
import { CliUsageError, ExitCode } from "../cli-error.js";
import { type CliContext, note, openStore, out, printJson } from "../context.js";
import { followRun } from "../follow-run.js";
import { isFinished, loadRunView } from "../run-view.js";

/** See the module comment. */
export async function cancelCommand(context: CliContext, runId: string, options: { json?: boolean }): Promise<number> {
  const store = await openStore(context);
  const view = await loadRunView(store, runId);
  if (isFinished(view.state)) {
    if (options.json) printJson({ runId, status: view.state, via: "none" });
    else out(`run ${runId} already ${view.state}: nothing to cancel\n`);
    return ExitCode.Ok;
  }
  if (view.remoteController?.alive) {
    // The controller job cancels its jobs and journals the run cancelled; its journal is mirrored here.
    if (!(await new RunHandle(runId, store).cancel())) throw new CliUsageError(`could not cancel controller job ${view.remoteController.jobId} of run "${runId}"`);
    if (!options.json) note(`sent SIGTERM to controller job ${view.remoteController.jobId} of run ${runId}; waiting for it to cancel its jobs`);
    const outcome = await followRun(store, runId, { deadline: Date.now() + 120_000 });
    if (options.json) printJson({ runId, status: outcome.view.state, via: "controller job", controllerJobId: view.remoteController.jobId });
    else out(`run ${runId} ${outcome.view.state}\n`);
    return isFinished(outcome.view.state) ? ExitCode.Ok : ExitCode.RunFailed;
  }
  if (view.controller) {
    if (view.controller.host !== hostname()) {
      throw new CliUsageError(`run "${runId}" is driven by a controller on host ${view.controller.host} (${view.controller.owner}); cancel it there`);
    }
    if (!(await new RunHandle(runId, store).cancel())) throw new CliUsageError(`could not signal the controller of run "${runId}" (${view.controller.owner})`);
    if (!options.json) note(`sent SIGTERM to the controller of run ${runId} (pid ${view.controller.pid}); waiting for it to cancel its jobs`);
    const outcome = await followRun(store, runId, { deadline: Date.now() + 60_000 });
    if (options.json) printJson({ runId, status: outcome.view.state, via: "controller", controllerPid: view.controller.pid });
    else out(`run ${runId} ${outcome.view.state}\n`);
    return isFinished(outcome.view.state) ? ExitCode.Ok : ExitCode.RunFailed;
  }
  const attempts = await cancelOffline(store, runId);
  const after = await loadRunView(store, runId);
  if (options.json) printJson({ runId, status: after.state, via: "journal", attempts });
  else {
    for (const a of attempts) out(`  ${a.step} attempt ${a.attempt}: ${a.outcome}${a.pid !== undefined ? ` (process group ${a.pid})` : ""}\n`);
    out(`run ${runId} ${after.state}\n`);
  }
  return after.state === "cancelled" ? ExitCode.Ok : ExitCode.RunFailed;
}

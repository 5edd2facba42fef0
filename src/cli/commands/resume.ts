/**
 * `gpu-dag resume <run>`: continue a run from its journal — finished steps are kept, jobs still
 * running are adopted, failed / skipped / cancelled steps run again — here with live progress, or
 * (`--remote`) in a detached controller.
 *
 * @module
 */
import { ExitCode } from "../cli-error.js";
import { type CliContext, note, openStore, out, printJson } from "../context.js";
import { checkStepNames } from "../pipeline-file.js";
import { describeResult, progressPrinter } from "../progress.js";
import { loadRunView } from "../run-view.js";
import { cancelOnSignals } from "../signals.js";

/** Options of `resume`. */
export interface ResumeOptions {
  force: string[];
  remote?: boolean;
  json?: boolean;
}

/** See the module comment. */
export async function resumeCommand(context: CliContext, runId: string, options: ResumeOptions): Promise<number> {
  const store = await openStore(context);
  const view = await loadRunView(store, runId);
  checkStepNames("--force", options.force, view.stored.stepNames);
  const force = options.force.length ? { force: options.force } : {};
  if (options.remote) {
    const { startDetachedController } = await import("../../api/detached-controller.js");
    const pid = startDetachedController(store, runId, { resume: true, home: context.home, ...force });
    const log = `${store.runDir(runId)}/controller.log`;
    if (options.json) printJson({ runId, controllerPid: pid, log });
    else {
      out(`${runId}\n`);
      note(`run ${runId} resumed by a detached controller (pid ${pid}, log ${log}); follow it: gpu-dag watch ${runId}`);
    }
    return ExitCode.Ok;
  }
  const { driveRun } = await import("../../api/drive-run.js");
  const write = options.json ? (line: string) => note(line) : (line: string) => out(line + "\n");
  write(`resuming run ${runId} (${view.counts.done}/${view.counts.total} steps done)`);
  const cancel = cancelOnSignals((signal) => note(`gpu-dag: ${signal}: cancelling run ${runId} (Ctrl-C again to leave at once)`));
  try {
    const result = await driveRun(runId, { store, home: context.home, resume: true, signal: cancel.signal, onEvent: progressPrinter({ clock: "elapsed", write }), ...force });
    if (options.json) printJson(result);
    else out(describeResult(result));
    return result.status === "succeeded" ? ExitCode.Ok : ExitCode.RunFailed;
  } finally {
    cancel.dispose();
    await store.close();
  }
}

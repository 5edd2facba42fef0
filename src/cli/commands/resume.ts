/**
 * `gpu-dag resume <run>`: continue a run from its journal — finished steps are kept, jobs still
 * running are adopted, failed / skipped / cancelled steps run again — here with live progress, or
 * (`--remote`) in a controller away from here: a job on the services queue for a Slurm run, a
 * detached process for a local one. Refused while another controller drives the run.
 *
 * @module
 */
import { ExitCode } from "../cli-error.js";
import { coloursFor } from "../colour.js";
import { type CliContext, note, openStore, out } from "../context.js";
import { checkStepNames } from "../pipeline-file.js";
import { progressPrinter } from "../progress.js";
import { reportStarted } from "../report-started.js";
import { reportRunOutcome } from "../run-outcome.js";
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
    const { startRunController } = await import("../../api/start-controller.js");
    try {
      const started = await startRunController(store, runId, { home: context.home, resume: true, ...force });
      reportStarted(runId, started, "resumed", options.json === true);
    } finally {
      await store.close();
    }
    return ExitCode.Ok;
  }
  const { driveRun } = await import("../../api/drive-run.js");
  const write = options.json ? (line: string) => note(line) : (line: string) => out(line + "\n");
  const colours = coloursFor(options.json ? process.stderr : process.stdout);
  write(`resuming run ${runId} (${view.counts.done}/${view.counts.total} steps done)`);
  const cancel = cancelOnSignals((signal) => note(`gpu-dag: ${signal}: cancelling run ${runId} (Ctrl-C again to leave at once)`));
  try {
    const result = await driveRun(runId, { store, home: context.home, resume: true, signal: cancel.signal, onEvent: progressPrinter({ clock: "elapsed", write, colours }), ...force });
    return reportRunOutcome(result, { json: options.json, colours, write });
  } finally {
    cancel.dispose();
    await store.close();
  }
}

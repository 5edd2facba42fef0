/**
 * `gpu-dag controller <run>` (hidden): the detached controller `executeRemotely()`, `run --remote`
 * and `resume --remote` start. Drives the recorded run; SIGTERM / SIGINT cancel it. Its stdout
 * is `<runDir>/controller.log`, so progress lines carry timestamps.
 *
 * @module
 */
import { ExitCode } from "../cli-error.js";
import { type CliContext, openStore } from "../context.js";
import { describeResult, progressPrinter } from "../progress.js";
import { cancelOnSignals } from "../signals.js";

/** See the module comment. */
export async function controllerCommand(context: CliContext, runId: string, options: { resume?: boolean; force: string[] }): Promise<number> {
  const store = await openStore(context);
  const write = (line: string) => process.stdout.write(line + "\n");
  write(`${new Date().toISOString()}  controller pid ${process.pid} ${options.resume ? "resuming" : "starting"} run ${runId} (store ${context.home})`);
  const cancel = cancelOnSignals((signal) => write(`${new Date().toISOString()}  ${signal}: cancelling the run`));
  try {
    const { driveRun } = await import("../../api/drive-run.js");
    const result = await driveRun(runId, {
      store,
      home: context.home,
      signal: cancel.signal,
      onEvent: progressPrinter({ clock: "iso", write }),
      onWaiting: (message) => write(`${new Date().toISOString()}  waiting  ${message}`),
      ...(options.resume ? { resume: true } : {}),
      ...(options.force.length ? { force: options.force } : {}),
    });
    process.stdout.write(describeResult(result));
    return result.status === "succeeded" ? ExitCode.Ok : ExitCode.RunFailed;
  } finally {
    cancel.dispose();
    await store.close();
  }
}

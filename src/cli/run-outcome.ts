/**
 * The end of a run driven in the foreground (`run`, `resume`): the result — as one JSON document
 * with `--json`, else the summary — then hints for a failure, and the exit code.
 *
 * @module
 */
import type { RunResult } from "../runner/run-types.js";
import { ExitCode } from "./cli-error.js";
import type { Colours } from "./colour.js";
import { out, printJson } from "./context.js";
import { failureHints } from "./failure-hints.js";
import { describeResult } from "./progress.js";

/** Prints `result` and returns the exit code: 0 succeeded, 1 otherwise. */
export function reportRunOutcome(result: RunResult, options: { json?: boolean | undefined; colours: Colours; write: (line: string) => void }): number {
  if (options.json) printJson(result);
  else out(describeResult(result, options.colours));
  // What to do about a failure: with --json on stderr (through `write`), so stdout stays one document.
  for (const hint of failureHints({ runId: result.runId, state: result.status, steps: result.steps })) options.write(hint);
  return result.status === "succeeded" ? ExitCode.Ok : ExitCode.RunFailed;
}

/**
 * Errors of the command line itself (a step name the run does not have, a bad flag value) and the
 * exit codes the CLI uses.
 *
 * @module
 */

/** Exit codes of `gpu-dag`. */
export const ExitCode = {
  /** The command worked; for `run`, `resume`, `wait`, `watch`: the run succeeded. */
  Ok: 0,
  /** The run failed or was cancelled (or an unexpected error: see `--debug`). */
  RunFailed: 1,
  /** Bad usage: unknown run id or step name, invalid pipeline or config, bad option. */
  Usage: 2,
  /** `wait --timeout` passed before the run ended. */
  Timeout: 124,
} as const;

/** A user mistake on the command line: printed as one line, exit code 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliUsageError";
  }
}

/**
 * Entry point of the `gpu-dag` command. Errors the user can act on (a bad run id, an invalid
 * pipeline or config) go to stderr — one line, or a headline and one line per problem — with
 * exit code 2; anything else is a bug and prints
 * its stack with `--debug`.
 *
 * @module
 */
import { CommanderError } from "commander";
import { GpuDagError } from "../errors.js";
import { CliUsageError, ExitCode } from "./cli-error.js";
import { isClosed, survivePipeClose } from "./closed-output.js";
import { buildProgram } from "./program.js";
import { sanitizeForTerminal } from "./sanitize.js";

/** Runs the CLI on `argv` (as `process.argv`); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code: number = ExitCode.Ok;
  const program = buildProgram((c) => (code = c));
  const debug = argv.includes("--debug");
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (or the help / version text).
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    return reportError(error, debug);
  }
}

/** Prints `error` as the CLI does and returns the exit code. */
export function reportError(error: unknown, debug: boolean): number {
  if (error instanceof CliUsageError || error instanceof GpuDagError) {
    process.stderr.write(`gpu-dag: ${lines((error as Error).message)}\n`);
    if (debug && (error as Error).stack) process.stderr.write(sanitizeForTerminal(String((error as Error).stack)) + "\n");
    return ExitCode.Usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`gpu-dag: unexpected error: ${oneLine(message)}${debug ? "" : " (run with --debug for the stack)"}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(sanitizeForTerminal(error.stack) + "\n");
  return ExitCode.RunFailed;
}

/** A list of problems (a pipeline's) one per line under the headline; each line sanitised. */
function lines(message: string): string {
  return sanitizeForTerminal(message)
    .split("\n")
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .join("\n");
}

/** Multi-line messages joined into one line (unexpected errors: their first words matter). */
function oneLine(message: string): string {
  return sanitizeForTerminal(message)
    .split("\n")
    .map((l) => l.trim().replace(/^- /, ""))
    .filter(Boolean)
    .join("; ")
    .replace(/:; /g, ": ");
}

survivePipeClose();
const exitCode = await main(process.argv);
// Let stdout drain (pipes), then exit even if a library left a handle open.
if (isClosed(process.stdout)) process.exit(exitCode);
else process.stdout.write("", () => process.exit(exitCode));

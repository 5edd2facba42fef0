/**
 * `gpu-dag setup-python`: creates (or checks) the venv the job-side Python runtime uses.
 *
 * @module
 */
import { join } from "node:path";
import { ExitCode } from "../cli-error.js";
import { type CliContext, out } from "../context.js";
import { cancelOnSignals } from "../signals.js";

/** Options of `setup-python`. */
export interface SetupPythonCommandOptions {
  venv?: string;
  python?: string;
  force?: boolean;
}

/** See the module comment. */
export async function setupPythonCommand(context: CliContext, options: SetupPythonCommandOptions): Promise<number> {
  let module: typeof import("../../python/setup-python.js");
  try {
    module = await import("../../python/setup-python.js");
  } catch (error) {
    throw new Error(`the Python runtime setup (src/python/setup-python.ts) is not available in this build: ${(error as Error).message}`);
  }
  const cancel = cancelOnSignals(() => process.stderr.write("gpu-dag: stopping the install\n"));
  try {
    const result = await module.setupPython({
      venv: options.venv ?? join(context.home, "venv"),
      ...(options.python ? { python: options.python } : {}),
      ...(options.force ? { force: true } : {}),
      onLog: (line) => out(line.endsWith("\n") ? line : line + "\n"),
      signal: cancel.signal,
    });
    out(`${result.installed === false ? "up to date" : "ready"}: ${result.venv}\npython: ${result.python}\n`);
    return ExitCode.Ok;
  } finally {
    cancel.dispose();
  }
}

/**
 * The argv of a job-side Python runner (`python -m gpu_dag_runtime.<runner> …`), real or simulated.
 * Backends make the `gpu_dag_runtime` package importable (they put its directory on PYTHONPATH).
 *
 * @module
 */
import type { RenderContext, RenderedCommand } from "./task-draft.js";

/** Runner modules of the job-side runtime. */
export const Runner = { Compress: "compress", Evaluate: "evaluate", Generate: "generate" } as const;
/** One of {@link Runner}'s values. */
export type Runner = (typeof Runner)[keyof typeof Runner];

/** A flag list: `undefined` / `false` values are dropped, `true` gives a bare flag. */
export type Flags = ReadonlyArray<readonly [flag: string, value: string | number | boolean | undefined]>;

/** Turns flags into argv words: `[["--limit", 5], ["--x", true]]` → `--limit 5 --x`. */
export function flagsToArgv(flags: Flags): string[] {
  return flags.flatMap(([flag, value]) => {
    if (value === undefined || value === false) return [];
    if (value === true) return [flag];
    return [flag, String(value)];
  });
}

/**
 * A runner's entry point other than its main one, the first word after the module:
 * `generate merge`, `evaluate list`, `evaluate recombine`.
 */
export type RunnerSubcommand = "merge" | "list" | "recombine";

/**
 * Renders a runner invocation (`subcommand`, when given, is the first argument). In `simulate` mode the same arguments go to
 * `gpu_dag_runtime.simulate <runner>`, which parses them like the real runner and writes outputs
 * of the same shape, marked simulated.
 */
export function pythonRunnerCommand(
  runner: Runner,
  flags: Flags,
  context: RenderContext,
  env: Record<string, string>,
  passthrough: readonly string[] = [],
  subcommand?: RunnerSubcommand,
): RenderedCommand {
  const args = [...(subcommand ? [subcommand] : []), ...flagsToArgv(flags), ...passthrough];
  const simulated = context.runtime === "simulate";
  const module = simulated ? ["-m", "gpu_dag_runtime.simulate", runner] : ["-m", `gpu_dag_runtime.${runner}`];
  return { argv: [context.python, ...module, ...args], env: { PYTHONUNBUFFERED: "1", ...env }, simulated };
}

/** The model argument: the resolved store path when there is one, else `modelId` as given. */
export function modelArgument(options: { modelId: string; modelFromStore: boolean }, context: RenderContext): string {
  if (options.modelFromStore) {
    if (context.modelPath === undefined) {
      throw new Error(`modelFromStore is set but store model "${options.modelId}" was not resolved to a path`);
    }
    return context.modelPath;
  }
  return options.modelId;
}

/**
 * The `gpu-dag` command tree: every command, its arguments and options. Actions import their
 * implementation lazily, so `gpu-dag --help` and quick read commands start fast.
 *
 * @module
 */
import { Command, Option } from "commander";
import { packageVersion } from "../package-root.js";
import { type CliContext, cliContext, type GlobalOptions } from "./context.js";
import { addStudyCommands } from "./study-commands.js";

/** What an action returns: the process exit code. */
type Action<A extends unknown[]> = (context: CliContext, ...args: A) => Promise<number>;

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Builds the program; `setExitCode` receives each action's exit code. */
export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command("gpu-dag")
    .description("DAG pipelines of LLM jobs on GPU queues: this machine's GPUs or a Slurm cluster.")
    .version(packageVersion(), "-V, --version", "print the gpu-dag version")
    .option("--home <dir>", "store directory (default: $GPU_DAG_HOME, else ~/.gpu-dag)")
    .option("--debug", "print stack traces of unexpected errors")
    .showSuggestionAfterError(true)
    // Usage errors throw (exit code 2, decided by main) instead of exiting; subcommands inherit this.
    .exitOverride()
    .configureHelp({ sortSubcommands: false });

  /** Wraps an action: global options → context, the returned code → exit code. */
  function act<A extends unknown[]>(action: Action<A>) {
    return async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const context = cliContext(command.optsWithGlobals<GlobalOptions>());
      setExitCode(await action(context, ...(args.slice(0, -1) as A)));
    };
  }
  const json = new Option("--json", "print one JSON document instead of text");

  program
    .command("run")
    .description("run a pipeline file (YAML or JSON); exit 0 when it succeeds, 1 when it fails")
    .argument("<pipeline>", "pipeline file")
    .option("--cluster <name|path>", "cluster config name or file (default: local)")
    .option("--config-dir <dir>", "directory of cluster configs (default: $GPU_DAG_CONFIG_DIR, ./cluster_configs)")
    .option("--param <key=value>", "value of ${pipeline.key} (repeatable)", collect, [])
    .option("--simulate", "run stand-ins for the ML tools (outputs marked simulated)")
    .option("--remote", "start the controller away from here (Slurm: a job on the services queue; local: a detached process), print the run id and exit")
    .option("--dry-run", "validate and print the plan and each rendered command; submit nothing")
    .option("--force <step>", "ignore the step cache for this step (repeatable)", collect, [])
    .addOption(json)
    .action(act(async (context, file: string, options: Record<string, unknown>) => (await import("./commands/run.js")).runCommand(context, file, options as never)));

  program
    .command("runs")
    .description("list runs: id, pipeline, status, steps done/total, started, duration")
    .addOption(json)
    .action(act(async (context, options: { json?: boolean }) => (await import("./commands/runs.js")).runsCommand(context, options)));

  program
    .command("status")
    .description("a run's steps: state, queue, job id, attempt, duration, exit code, reasons")
    .argument("<run>", "run id")
    .addOption(json)
    .action(act(async (context, runId: string, options: { json?: boolean }) => (await import("./commands/status.js")).statusCommand(context, runId, options)));

  program
    .command("watch")
    .description("live view of a run until it ends (exit 0 when it succeeded)")
    .argument("<run>", "run id")
    .option("--interval <ms>", "refresh period", "500")
    .addOption(json)
    .action(act(async (context, runId: string, options: { json?: boolean; interval: string }) => (await import("./commands/watch.js")).watchCommand(context, runId, options)));

  program
    .command("wait")
    .description("wait for a run to end: exit 0 succeeded, 1 failed or cancelled, 124 timed out")
    .argument("<run>", "run id")
    .option("--timeout <seconds>", "give up after this many seconds")
    .addOption(json)
    .action(act(async (context, runId: string, options: { json?: boolean; timeout?: string }) => (await import("./commands/wait.js")).waitCommand(context, runId, options)));

  program
    .command("logs")
    .description("a step's output (stdout, or stderr with --stderr)")
    .argument("<run>", "run id")
    .argument("<step>", "step name")
    .option("-f, --follow", "keep printing until the attempt ends")
    .option("--attempt <n>", "attempt number (default: the last)")
    .option("--stderr", "show stderr instead of stdout")
    .addOption(json)
    .action(act(async (context, runId: string, step: string, options: Record<string, unknown>) => (await import("./commands/logs.js")).logsCommand(context, runId, step, options as never)));

  program
    .command("cancel")
    .description("cancel a run: its controller if one is live, else its recorded jobs")
    .argument("<run>", "run id")
    .addOption(json)
    .action(act(async (context, runId: string, options: { json?: boolean }) => (await import("./commands/cancel.js")).cancelCommand(context, runId, options)));

  program
    .command("resume")
    .description("continue a run from its journal: failed, skipped and cancelled steps run again")
    .argument("<run>", "run id")
    .option("--force <step>", "run this step (and its descendants) again (repeatable)", collect, [])
    .option("--remote", "resume in a controller away from here (Slurm: a new services-queue job; local: a detached process) and exit")
    .addOption(json)
    .action(act(async (context, runId: string, options: Record<string, unknown>) => (await import("./commands/resume.js")).resumeCommand(context, runId, options as never)));

  addStudyCommands(program, act);

  program
    .command("graph")
    .description("draw a run (coloured by step state) or a pipeline file")
    .argument("<run-or-pipeline>", "run id, or a pipeline file")
    .addOption(new Option("--format <format>", "output format").choices(["mermaid", "dot", "svg"]).default("mermaid"))
    .addOption(json)
    .action(act(async (context, target: string, options: { format: "mermaid" | "dot" | "svg"; json?: boolean }) => (await import("./commands/graph.js")).graphCommand(context, target, options)));

  program
    .command("tasks")
    .description("task drafts in the store")
    .addOption(json)
    .action(act(async (context, options: { json?: boolean }) => (await import("./commands/store-lists.js")).tasksCommand(context, options)));

  program
    .command("models")
    .description("models recorded in the store")
    .addOption(json)
    .action(act(async (context, options: { json?: boolean }) => (await import("./commands/store-lists.js")).modelsCommand(context, options)));

  program
    .command("queues")
    .description("a cluster config's queues: executor, partition, GPUs, time")
    .option("--cluster <name|path>", "cluster config name or file (default: local)")
    .option("--config-dir <dir>", "directory of cluster configs")
    .addOption(json)
    .action(act(async (context, options: { cluster?: string; configDir?: string; json?: boolean }) => (await import("./commands/queues.js")).queuesCommand(context, options)));

  program
    .command("config-schema")
    .description("print the JSON Schema of cluster configs (for editors)")
    .action(act(async () => (await import("./commands/queues.js")).configSchemaCommand()));

  program
    .command("setup-python")
    .description("create the Python venv the job-side runtime uses (pinned tool versions)")
    .option("--venv <dir>", "venv directory (default: <home>/venv)")
    .option("--python <interpreter>", "interpreter that creates the venv (default: $GPU_DAG_PYTHON, else python3)")
    .option("--force", "reinstall even when up to date")
    .action(act(async (context, options: { venv?: string; python?: string; force?: boolean }) => (await import("./commands/setup-python.js")).setupPythonCommand(context, options)));

  program
    .command("controller", { hidden: true })
    .description("drive a recorded run (started by `run --remote` / executeRemotely())")
    .argument("<run>", "run id")
    .option("--resume", "continue from the journal")
    .option("--force <step>", "run this step again (repeatable)", collect, [])
    .action(act(async (context, runId: string, options: { resume?: boolean; force: string[] }) => (await import("./commands/controller.js")).controllerCommand(context, runId, options)));

  return program;
}

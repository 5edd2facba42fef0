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
/** A `<run>` argument (id, unique id prefix or name) → the run id. */
const runRef = async (context: CliContext, ref: string): Promise<string> => (await import("./run-ref.js")).resolveRunRef(context, ref);
const RUN_ARG = "run id, unique id prefix, or run name (the newest run with it)";

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
    .option("--name <name>", "the run's name (runs with one name: the newest is the one a ref means)")
    .option("--tag <tag>", "tag the run (repeatable, or a comma list)", collect, [])
    .option("--run-after <run>", "start the steps only once this run (id, prefix or name) succeeded (repeatable)", collect, [])
    .option("--code <dir>", "Slurm: ship the git repository around this directory with the run (over the cluster config's code.dir)")
    .addOption(json)
    .action(act(async (context, file: string, options: Record<string, unknown>) => (await import("./commands/run.js")).runCommand(context, file, options as never)));

  program
    .command("runs")
    .description("the experiment table: runs (newest first) with name, pipeline, status, steps, parameters and chosen metrics")
    .option("--pipeline <name>", "only runs of this pipeline (name, or project/name)")
    .option("--tag <tag>", "only runs with this tag (repeatable, or a comma list: all must match)", collect, [])
    .option("--status <status>", "only runs in this state: succeeded, failed, cancelled, running, interrupted, created (repeatable)", collect, [])
    .option("--where <key=value>", "only runs where a parameter or metric compares so: = != > >= < <= ~ (repeatable), e.g. lr=0.1, openllm/acc>0.5", collect, [])
    .option("--since <when>", "only runs created since: a duration back (30m, 2h, 7d) or a date")
    .option("--name <name>", "only runs with this name (a glob with *)")
    .option("--metric <name>", "show this metric as a column (repeatable; step:name picks one step's)", collect, [])
    .option("--sort <key>", "sort by created, name, status, duration, a parameter or a metric; -key or key:desc descending (default -created)")
    .option("--limit <n>", "at most this many runs (text: 50 unless given; 0: all)")
    .addOption(new Option("--params <which>", "parameter columns: those that differ between the runs shown, or all").choices(["differing", "all"]).default("differing"))
    .addOption(json)
    .option("--csv", "print CSV: every run that matches, every parameter and asked-for metric as a column")
    .action(act(async (context, options: Record<string, unknown>) => (await import("./commands/runs.js")).runsCommand(context, options as never)));

  program
    .command("status")
    .description("a run's steps: state, queue, job id, attempt, duration, exit code, reasons")
    .argument("<run>", RUN_ARG)
    .addOption(json)
    .action(act(async (context, runId: string, options: { json?: boolean }) => (await import("./commands/status.js")).statusCommand(context, await runRef(context, runId), options)));

  program
    .command("watch")
    .description("live view of a run until it ends (exit 0 when it succeeded)")
    .argument("<run>", RUN_ARG)
    .option("--interval <ms>", "refresh period", "500")
    .addOption(json)
    .action(act(async (context, runId: string, options: { json?: boolean; interval: string }) => (await import("./commands/watch.js")).watchCommand(context, await runRef(context, runId), options)));

  program
    .command("wait")
    .description("wait for a run to end: exit 0 succeeded, 1 failed or cancelled, 124 timed out")
    .argument("<run>", RUN_ARG)
    .option("--timeout <seconds>", "give up after this many seconds")
    .addOption(json)
    .action(act(async (context, runId: string, options: { json?: boolean; timeout?: string }) => (await import("./commands/wait.js")).waitCommand(context, await runRef(context, runId), options)));

  program
    .command("logs")
    .description("a step's output (stdout, or stderr with --stderr)")
    .argument("<run>", RUN_ARG)
    .argument("<step>", "step name")
    .option("-f, --follow", "keep printing until the attempt ends")
    .option("--attempt <n>", "attempt number (default: the last)")
    .option("--stderr", "show stderr instead of stdout")
    .addOption(json)
    .action(
      act(async (context, runId: string, step: string, options: Record<string, unknown>) =>
        (await import("./commands/logs.js")).logsCommand(context, await runRef(context, runId), step, options as never),
      ),
    );

  program
    .command("cancel")
    .description("cancel a run: its controller if one is live, else its recorded jobs")
    .argument("<run>", RUN_ARG)
    .addOption(json)
    .action(act(async (context, runId: string, options: { json?: boolean }) => (await import("./commands/cancel.js")).cancelCommand(context, await runRef(context, runId), options)));

  program
    .command("resume")
    .description("continue a run from its journal: failed, skipped and cancelled steps run again")
    .argument("<run>", RUN_ARG)
    .option("--force <step>", "run this step (and its descendants) again (repeatable)", collect, [])
    .option("--remote", "resume in a controller away from here (Slurm: a new services-queue job; local: a detached process) and exit")
    .addOption(json)
    .action(act(async (context, runId: string, options: Record<string, unknown>) => (await import("./commands/resume.js")).resumeCommand(context, await runRef(context, runId), options as never)));

  program
    .command("retry")
    .description("run again what a finished run did not do (failed, skipped, cancelled steps and map elements); the rest is kept")
    .argument("<run>", RUN_ARG)
    .option("--failed", "what to run again: the steps and elements that did not succeed (the default, the only choice)")
    .option("--remote", "retry in a controller away from here and exit")
    .addOption(json)
    .action(act(async (context, runId: string, options: Record<string, unknown>) => (await import("./commands/retry.js")).retryCommand(context, await runRef(context, runId), options as never)));

  addStudyCommands(program, act);

  program
    .command("graph")
    .description("draw a run (coloured by step state) or a pipeline file")
    .argument("<run-or-pipeline>", "a run (id, unique id prefix or name), or a pipeline file")
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
    .description("models in the store: the run and step that made each, its parent, how many evaluations measured it")
    .option("--pipeline <name>", "made by runs of this pipeline")
    .option("--run <run>", "made by this run (id, prefix or name)")
    .option("--name <name>", "with this model name (~text: names containing text)")
    .option("--tag <tag>", "made by runs with this tag")
    .addOption(json)
    .action(act(async (context, options: Record<string, unknown>) => (await import("./commands/models.js")).modelsCommand(context, options as never)));

  program
    .command("model")
    .description("one model's lineage: producing run, step, task and recipe; parent model; evaluations with metrics; files")
    .argument("<model>", "model id, unique id prefix, or model name")
    .addOption(json)
    .action(act(async (context, ref: string, options: { json?: boolean }) => (await import("./commands/models.js")).modelCommand(context, ref, options)));

  program
    .command("artifacts")
    .description("the models and files a run's steps produced, with their paths")
    .argument("<run>", RUN_ARG)
    .argument("[step]", "only this step (a map step: its elements)")
    .addOption(json)
    .action(act(async (context, run: string, step: string | undefined, options: { json?: boolean }) => (await import("./commands/models.js")).artifactsCommand(context, run, step, options)));

  program
    .command("metrics")
    .description("a run's metrics; --history shows every value of metrics reported more than once")
    .argument("<run>", RUN_ARG)
    .argument("[step]", "only this step (a map step: its elements)")
    .option("--metric <name>", "only this metric")
    .option("--history", "every reported point (iteration, value), not only the last value")
    .addOption(json)
    .action(
      act(async (context, run: string, step: string | undefined, options: Record<string, unknown>) => (await import("./commands/compare.js")).metricsCommand(context, run, step, options as never)),
    );

  program
    .command("compare")
    .description("runs, steps (run:step) or models side by side: parameters that differ, metrics with the difference to the first")
    .argument("<refs...>", "two or more: a run (id, prefix or name), run:step, or a model (id, name, or the path/hub name evaluations were given)")
    .option("--all-params", "list every parameter, not only those that differ")
    .addOption(new Option("--reduce <how>", "value of a metric reported as a series").choices(["last", "first", "min", "max", "mean"]).default("last"))
    .addOption(json)
    .option("--csv", "print CSV")
    .option("--markdown", "print a markdown table")
    .action(act(async (context, refs: string[], options: Record<string, unknown>) => (await import("./commands/compare.js")).compareCommand(context, refs, options as never)));

  const report = program.command("report").description("reports over the store's results");
  report
    .command("recovery")
    .description("recovery of compressed models: candidate ÷ baseline × 100 per benchmark, section averages, model-card table")
    .requiredOption("--baseline <ref>", "the base model's evaluations: a run, run:step, or model (a comma list pools repeated seeds)")
    .requiredOption("--candidate <ref>", "a candidate's evaluations (repeatable: one column each; a comma list pools seeds)", collect, [])
    .addOption(new Option("--format <format>", "output format").choices(["markdown", "csv", "html", "json"]).default("markdown"))
    .option("--metric <task=metric>", "score a benchmark with this metric (repeatable; a bare name applies wherever present)", collect, [])
    .option("--scale <factor>", "multiply displayed scores (e.g. 100 for percent); recoveries do not change", "1")
    .option("--label <text>", "column label: first for the baseline, then one per candidate (repeatable)", collect, [])
    .addOption(new Option("--reduce <how>", "value of a metric reported as a series").choices(["last", "first", "min", "max", "mean"]).default("last"))
    .option("-o, --output <file>", "write the report to this file instead of stdout")
    .action(act(async (context, options: Record<string, unknown>) => (await import("./commands/report.js")).recoveryCommand(context, options as never)));

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
    .command("ui")
    .description("serve the web dashboard over the store; prints its URL (with the access token) first, serves until Ctrl-C")
    .option("--port <n>", "port (default: a free one)")
    .option("--host <address>", "address to bind (default 127.0.0.1)")
    .action(act(async (context, options: { port?: string; host?: string }) => (await import("./commands/ui.js")).uiCommand(context, options)));

  program
    .command("controller", { hidden: true })
    .description("drive a recorded run (started by `run --remote` / executeRemotely())")
    .argument("<run>", "run id")
    .option("--resume", "continue from the journal")
    .option("--force <step>", "run this step again (repeatable)", collect, [])
    .action(act(async (context, runId: string, options: { resume?: boolean; force: string[] }) => (await import("./commands/controller.js")).controllerCommand(context, runId, options)));

  return program;
}

/**
 * The `gpu-dag study …` command tree: run, resume, status, table, best, cancel, list. Actions
 * load their implementation (`commands/study.ts`) lazily, like every other command.
 *
 * @module
 */
import { type Command, Option } from "commander";
import type { CliContext } from "./context.js";

/** What `program.ts` wraps an action with (global options → context, result → exit code). */
type Act = <A extends unknown[]>(action: (context: CliContext, ...args: A) => Promise<number>) => (...args: unknown[]) => Promise<void>;

const study = () => import("./commands/study.js");

/** Adds `study` and its subcommands to `program`. */
export function addStudyCommands(program: Command, act: Act): void {
  const json = () => new Option("--json", "print one JSON document instead of text");
  const group = program.command("study").description("parameter sweeps of a pipeline (grid, random, halving): each trial a run; resumable");

  group
    .command("run")
    .description("submit a study file (YAML or JSON) and drive it here until it ends; exit 0 when a trial reported the objective")
    .argument("<study>", "study file")
    .option("--cluster <name|path>", "cluster config name or file (default: the study file's, else local)")
    .option("--config-dir <dir>", "directory of cluster configs")
    .option("--simulate", "run stand-ins for the ML tools")
    .addOption(json())
    .action(act(async (context, file: string, options: Record<string, unknown>) => (await study()).studyRunCommand(context, file, options as never)));

  group
    .command("resume")
    .description("continue a study from its journal: finished trials are kept, interrupted ones resumed")
    .argument("<study>", "study id")
    .addOption(json())
    .action(act(async (context, id: string, options: { json?: boolean }) => (await study()).studyResumeCommand(context, id, options)));

  group
    .command("status")
    .description("a study's state: trials told, running, the best so far")
    .argument("<study>", "study id")
    .addOption(json())
    .action(act(async (context, id: string, options: { json?: boolean }) => (await study()).studyStatusCommand(context, id, options)));

  group
    .command("table")
    .description("every trial: parameters, status, objective, duration, run id; best first")
    .argument("<study>", "study id")
    .addOption(json())
    .action(act(async (context, id: string, options: { json?: boolean }) => (await study()).studyTableCommand(context, id, options)));

  group
    .command("best")
    .description("the best trial: parameters, objective, its run id, metrics and models")
    .argument("<study>", "study id")
    .addOption(json())
    .action(act(async (context, id: string, options: { json?: boolean }) => (await study()).studyBestCommand(context, id, options)));

  group
    .command("cancel")
    .description("cancel a study: its live controller (SIGTERM), else its interrupted trials' jobs")
    .argument("<study>", "study id")
    .addOption(json())
    .action(act(async (context, id: string, options: { json?: boolean }) => (await study()).studyCancelCommand(context, id, options)));

  group
    .command("list")
    .description("studies in the store: id, name, method, status, trials")
    .addOption(json())
    .action(act(async (context, options: { json?: boolean }) => (await study()).studyListCommand(context, options)));
}

/**
 * `gpu-dag run <pipeline>`: validate and record a run, then drive it here with live progress,
 * or (`--remote`) in a detached controller, or (`--dry-run`) only print the plan.
 *
 * @module
 */
import type { CreateRunOptions } from "../../api/create-run.js";
import { ExitCode } from "../cli-error.js";
import { coloursFor } from "../colour.js";
import { type CliContext, note, out, printJson } from "../context.js";
import { parseList } from "../list-options.js";
import { checkStepNames, parseParams, readPipelineFile } from "../pipeline-file.js";
import { progressPrinter } from "../progress.js";
import { reportStarted } from "../report-started.js";
import { reportRunOutcome } from "../run-outcome.js";
import { cancelOnSignals } from "../signals.js";

/** Options of `run`. */
export interface RunCommandOptions {
  cluster?: string;
  configDir?: string;
  param: string[];
  simulate?: boolean;
  remote?: boolean;
  dryRun?: boolean;
  force: string[];
  name?: string;
  tag?: string[];
  runAfter?: string[];
  code?: string;
  json?: boolean;
}

/** See the module comment. */
export async function runCommand(context: CliContext, file: string, options: RunCommandOptions): Promise<number> {
  const pipeline = await readPipelineFile(file);
  const parameters = parseParams(options.param);
  checkStepNames("--force", options.force, pipeline.stepNames());
  const createOptions: CreateRunOptions = {
    home: context.home,
    parameters,
    ...(options.cluster ? { cluster: options.cluster } : {}),
    ...(options.configDir ? { configDir: options.configDir } : {}),
    ...(options.simulate ? { runtime: "simulate" as const } : {}),
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(parseList(options.tag).length ? { tags: parseList(options.tag) } : {}),
    ...(parseList(options.runAfter).length ? { runAfter: parseList(options.runAfter) } : {}),
    ...(options.code !== undefined ? { code: options.code } : {}),
  };

  if (options.dryRun) {
    const { planDryRun, formatDryRun } = await import("../dry-run.js");
    const plan = await planDryRun(pipeline, createOptions);
    if (options.json) printJson(plan);
    else out(formatDryRun(plan));
    return ExitCode.Ok;
  }

  const { createRun } = await import("../../api/create-run.js");
  if (options.remote) {
    // The same path as executeRemotely(): a controller job on a Slurm cluster, else a detached process.
    const { startRunController } = await import("../../api/start-controller.js");
    const { runId, store } = await createRun(pipeline, { ...createOptions, mode: "detached" });
    try {
      const started = await startRunController(store, runId, { home: context.home, ...(options.force.length ? { force: options.force } : {}) });
      reportStarted(runId, started, "started", options.json === true);
    } finally {
      await store.close();
    }
    return ExitCode.Ok;
  }

  const { driveRun } = await import("../../api/drive-run.js");
  const { runId, store, plan } = await createRun(pipeline, { ...createOptions, mode: "local" });
  // With --json, stdout holds only the result document; progress goes to stderr.
  const write = options.json ? (line: string) => note(line) : (line: string) => out(line + "\n");
  const colours = coloursFor(options.json ? process.stderr : process.stdout);
  write(`run ${runId}: pipeline ${pipeline.projectName}/${pipeline.pipelineName}, ${pipeline.stepNames().length} steps (store ${context.home})`);
  const cancel = cancelOnSignals((signal) => note(`gpu-dag: ${signal}: cancelling run ${runId} (Ctrl-C again to leave at once; \`gpu-dag resume ${runId}\` continues it)`));
  try {
    const result = await driveRun(runId, {
      store,
      plan,
      home: context.home,
      signal: cancel.signal,
      onEvent: progressPrinter({ clock: "elapsed", write, colours }),
      onWaiting: (message) => write(`waiting  ${message}`),
      ...(options.force.length ? { force: options.force } : {}),
    });
    return reportRunOutcome(result, { json: options.json, colours, write });
  } finally {
    cancel.dispose();
    await store.close();
  }
}

/**
 * `gpu-dag study run|resume|status|table|best|cancel|list`. `run` submits a study file and drives
 * it here (Ctrl-C cancels the running trials; `study resume` continues); the read commands work
 * from the study's journal in any process, while it runs or after.
 *
 * @module
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { readRun, resultOf } from "../../api/run-status.js";
import { isStale, readLock } from "../../store/run-lock.js";
import { Study, type StudyView } from "../../study/study.js";
import type { StudyEventListener } from "../../study/study-events.js";
import { CliUsageError, ExitCode } from "../cli-error.js";
import { type CliContext, note, openStore, out, printJson } from "../context.js";
import { cancelOnSignals } from "../signals.js";
import { formatStudyStatus, formatStudyTable, objectiveLine, objectiveText, paramsText, studyEventLine, trialCounts } from "../study-format.js";

/** Options of `study run`. */
export interface StudyRunCommandOptions {
  cluster?: string;
  configDir?: string;
  simulate?: boolean;
  json?: boolean;
}

/** `study run <file>`. */
export async function studyRunCommand(context: CliContext, file: string, options: StudyRunCommandOptions): Promise<number> {
  const { readStudyFile } = await import("../../study/study-file.js");
  const read = await readStudyFile(file);
  const store = await openStore(context);
  try {
    const study = new Study({
      ...read.spec,
      pipeline: read.pipeline,
      store,
      home: context.home,
      ...(options.cluster ? { cluster: options.cluster } : read.cluster !== undefined ? { cluster: read.cluster as never } : {}),
      ...(options.configDir ? { configDir: options.configDir } : read.configDir ? { configDir: read.configDir } : {}),
      ...(options.simulate ? { runtime: "simulate" as const } : read.runtime ? { runtime: read.runtime } : {}),
    });
    const id = await study.submit();
    return await drive(id, options.json === true, `study ${id}: ${read.pipeline.projectName}/${read.pipeline.pipelineName}, method ${study.spec.method} (store ${context.home})`, (signal, onEvent) =>
      study.run({ signal, onEvent }),
    );
  } finally {
    await store.close();
  }
}

/** `study resume <id>`. */
export async function studyResumeCommand(context: CliContext, id: string, options: { json?: boolean }): Promise<number> {
  const before = await Study.view(id, { home: context.home });
  if (before.status === "running") throw new CliUsageError(`study "${id}" is driven by a live controller; \`gpu-dag study status ${id}\` follows it`);
  const store = await openStore(context);
  try {
    const c = trialCounts(before);
    return await drive(id, options.json === true, `resuming study ${id} (${c.succeeded + c.failed} trials told, ${c.interrupted} interrupted)`, (signal, onEvent) =>
      Study.resume(id, { store, home: context.home, signal, onEvent }),
    );
  } finally {
    await store.close();
  }
}

/** Drives a study with progress lines and Ctrl-C handling; prints the table and the best trial. */
async function drive(id: string, json: boolean, banner: string, go: (signal: AbortSignal, onEvent: StudyEventListener) => Promise<StudyView>): Promise<number> {
  const write = json ? (line: string) => note(line) : (line: string) => out(line + "\n");
  write(banner);
  const cancel = cancelOnSignals((signal) => note(`gpu-dag: ${signal}: cancelling study ${id}'s running trials (\`gpu-dag study resume ${id}\` continues it)`));
  try {
    const view = await go(cancel.signal, (event) => {
      const line = studyEventLine(event);
      if (line) write(line);
    });
    if (json) printJson(view);
    else {
      out(formatStudyTable(view));
      out(view.best ? `best: trial ${view.best.trial}, objective ${objectiveText(view.best)} (${paramsText(view.best.params)}); run ${view.best.runId}\n` : "best: no trial reported the objective\n");
    }
    return view.status === "succeeded" ? ExitCode.Ok : ExitCode.RunFailed;
  } finally {
    cancel.dispose();
  }
}

/** `study status <id>`. */
export async function studyStatusCommand(context: CliContext, id: string, options: { json?: boolean }): Promise<number> {
  const view = await Study.view(id, { home: context.home });
  const lock = view.status === "running" ? await readLock(join(context.home, "studies", id, "lock.json")) : undefined;
  if (options.json) printJson({ ...view, ...(lock ? { controller: { host: lock.host, pid: lock.pid } } : {}) });
  else out(formatStudyStatus(view, lock ? `controller pid ${lock.pid} on ${lock.host}` : undefined));
  return ExitCode.Ok;
}

/** `study table <id>`. */
export async function studyTableCommand(context: CliContext, id: string, options: { json?: boolean }): Promise<number> {
  const view = await Study.view(id, { home: context.home });
  if (options.json) printJson({ studyId: id, status: view.status, objective: view.record.spec.objective, trials: view.table });
  else out(formatStudyTable(view));
  return ExitCode.Ok;
}

/** `study best <id>`: the best trial and what its run recorded. Exit 1 when no trial reported the objective. */
export async function studyBestCommand(context: CliContext, id: string, options: { json?: boolean }): Promise<number> {
  const view = await Study.view(id, { home: context.home });
  const best = view.best;
  if (!best) {
    if (options.json) printJson({ studyId: id, status: view.status, best: null });
    else out(`study ${id}: no trial reported the objective (${objectiveLine(view)}) yet\n`);
    return ExitCode.RunFailed;
  }
  const store = await openStore(context);
  try {
    const run = resultOf(store, await readRun(store, best.runId));
    if (options.json) {
      printJson({ studyId: id, status: view.status, objective: view.record.spec.objective, best: { ...best, metrics: run.metrics, models: run.models } });
      return ExitCode.Ok;
    }
    const lines = [
      `best trial ${best.trial} of study ${id} (${objectiveLine(view)}${view.record.spec.method === "halving" ? `, rung ${best.rung}` : ""}): objective ${objectiveText(best)}`,
      `  parameters: ${paramsText(best.params)}`,
      `  run: ${best.runId}  (gpu-dag status ${best.runId}; compare and report recovery take this run id)`,
      ...Object.entries(run.metrics).map(
        ([step, metrics]) =>
          `  metrics of ${step}: ${Object.entries(metrics)
            .map(([k, v]) => `${k}=${v}`)
            .join(", ")}`,
      ),
      ...run.models.map((m) => `  model ${m.name} (${m.id}) from ${m.step}: ${m.path}`),
    ];
    out(lines.join("\n") + "\n");
    return ExitCode.Ok;
  } finally {
    await store.close();
  }
}

/** `study cancel <id>`: SIGTERM to a live controller here; without one, the study and its interrupted trials are cancelled from the journal. */
export async function studyCancelCommand(context: CliContext, id: string, options: { json?: boolean }): Promise<number> {
  const view = await Study.view(id, { home: context.home });
  const report = (status: string, via: string) => (options.json ? printJson({ studyId: id, status, via }) : out(`study ${id} ${status}\n`));
  if (view.status === "succeeded" || view.status === "failed" || view.status === "cancelled") {
    if (options.json) printJson({ studyId: id, status: view.status, via: "none" });
    else out(`study ${id} already ${view.status}: nothing to cancel\n`);
    return ExitCode.Ok;
  }
  const lockFile = join(context.home, "studies", id, "lock.json");
  const lock = await readLock(lockFile);
  if (lock && !isStale(lock, 15_000)) {
    if (lock.host !== hostname()) throw new CliUsageError(`study "${id}" is driven by a controller on host ${lock.host} (pid ${lock.pid}); cancel it there`);
    process.kill(lock.pid, "SIGTERM");
    if (!options.json) note(`sent SIGTERM to the controller of study ${id} (pid ${lock.pid}); waiting for it to cancel its trials`);
    const deadline = Date.now() + 60_000;
    let now = view;
    while (now.status === "running" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      now = await Study.view(id, { home: context.home });
    }
    report(now.status, "controller");
    return now.status === "cancelled" ? ExitCode.Ok : ExitCode.RunFailed;
  }
  const { cancelInterruptedStudy } = await import("../study-cancel.js");
  const store = await openStore(context);
  try {
    await cancelInterruptedStudy(store, context.home, view);
  } finally {
    await store.close();
  }
  report("cancelled", "journal");
  return ExitCode.Ok;
}

/** `study list`. */
export async function studyListCommand(context: CliContext, options: { json?: boolean }): Promise<number> {
  const { listStudyIds } = await import("../../study/study-files.js");
  const views = await Promise.all((await listStudyIds(context.home)).map((id) => Study.view(id, { home: context.home }).catch(() => undefined)));
  const rows = views.filter((v): v is StudyView => v !== undefined);
  if (options.json) {
    printJson(rows.map((v) => ({ studyId: v.studyId, name: v.record.spec.name, method: v.record.spec.method, status: v.status, trials: v.trials.length, best: v.best })));
    return ExitCode.Ok;
  }
  const { formatTable } = await import("../format.js");
  out(
    formatTable(
      ["STUDY", "NAME", "METHOD", "STATUS", "TRIALS", "BEST"],
      rows.map((v) => [v.studyId, v.record.spec.name ?? "-", v.record.spec.method, v.status, String(v.trials.length), v.best ? objectiveText(v.best) : "-"]),
    ),
  );
  return ExitCode.Ok;
}

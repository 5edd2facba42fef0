/**
 * `gpu-dag tasks` and `gpu-dag models`: the task drafts and the models the store holds.
 *
 * @module
 */
import { ExitCode } from "../cli-error.js";
import { type CliContext, openStore, out, printJson } from "../context.js";
import { formatTable, formatTime } from "../format.js";

/** `gpu-dag tasks`. */
export async function tasksCommand(context: CliContext, options: { json?: boolean }): Promise<number> {
  const store = await openStore(context);
  const { listTasks } = await import("../../tasks/registry.js");
  const tasks = await listTasks(store);
  if (options.json) printJson({ store: context.home, tasks });
  else if (tasks.length === 0) out(`no task drafts in ${context.home} (pipelines with inline tasks store none)\n`);
  else
    out(
      formatTable(
        ["ID", "TYPE", "PROJECT", "NAME", "CREATED"],
        tasks.map((t) => [t.id, t.type, t.projectName, t.taskName, formatTime(Date.parse(t.createdAt))]),
      ),
    );
  return ExitCode.Ok;
}

/** `gpu-dag models`. */
export async function modelsCommand(context: CliContext, options: { json?: boolean }): Promise<number> {
  const store = await openStore(context);
  const models = (await store.listModels()).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  if (options.json) printJson({ store: context.home, models });
  else if (models.length === 0) out(`no models in ${context.home}\n`);
  else {
    out(
      formatTable(
        ["ID", "NAME", "RUN", "STEP", "FRAMEWORK", "CLUSTER", "PATH"],
        models.map((m) => [m.id, m.name + (m.simulated ? " [simulated]" : ""), m.runId, m.step, m.framework, m.cluster, m.path]),
      ),
    );
  }
  return ExitCode.Ok;
}

/**
 * `gpu-dag tasks`: the task drafts the store holds (models: `commands/models.ts`).
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

/**
 * Stored drafts back to objects: type → class.
 *
 * @module
 */
import { TaskOptionError } from "../errors.js";
import { defaultStore } from "../store/default-store.js";
import type { TaskRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { Task, type TaskOptions } from "./custom-task.js";
import { GenerateTask, type GenerateTaskOptions } from "./generate-task.js";
import { LLMCompressorTask, type LLMCompressorTaskOptions } from "./llm-compressor-task.js";
import { LMEvalTask, type LMEvalTaskOptions } from "./lm-eval-task.js";
import type { TaskDraft } from "./task-draft.js";

/** Any draft. */
export type AnyTaskDraft = LLMCompressorTask | LMEvalTask | GenerateTask | Task;

/** Rebuilds a draft from its record (options re-validated; a record that no longer validates throws). */
export function taskFromRecord(record: TaskRecord): AnyTaskDraft {
  let draft: AnyTaskDraft;
  switch (record.type) {
    case "llm-compressor":
      draft = new LLMCompressorTask(record.options as unknown as LLMCompressorTaskOptions);
      break;
    case "lm-eval":
      draft = new LMEvalTask(record.options as unknown as LMEvalTaskOptions);
      break;
    case "generate":
      draft = new GenerateTask(record.options as unknown as GenerateTaskOptions);
      break;
    case "custom":
      draft = new Task(record.options as unknown as TaskOptions);
      break;
    default:
      throw new TaskOptionError("TaskDraft", "type", `stored task "${record.id}" has unknown type ${JSON.stringify((record as { type: unknown }).type)}`);
  }
  draft.id = record.id;
  return draft;
}

/** Loads a draft by id (throws `TaskNotFoundError`). */
export async function loadTask(id: string, store: Store = defaultStore()): Promise<AnyTaskDraft> {
  return taskFromRecord(await store.getTask(id));
}

/** Every stored draft. */
export async function listTasks(store: Store = defaultStore()): Promise<TaskRecord[]> {
  return store.listTasks();
}

/** Narrowing helper for code that holds a `TaskDraft`. */
export function isTaskDraft(value: unknown): value is TaskDraft {
  return typeof value === "object" && value !== null && "render" in value && "clone" in value && "options" in value;
}

/**
 * The base of every task draft: validated options, `createTask()` into a store, `clone()` with
 * overrides, and rendering of the job's command.
 *
 * @module
 */
import type { z } from "zod";
import { didYouMean } from "../args/did-you-mean.js";
import { TaskOptionError } from "../errors.js";
import { defaultStore } from "../store/default-store.js";
import { newId } from "../store/ids.js";
import type { TaskRecord, TaskType } from "../store/records.js";
import type { Store } from "../store/store.js";
import { knownKeys, parseTaskOptions } from "./option-schemas.js";

/** What a task needs to know about where its job runs, to render its command. */
export interface RenderContext {
  /** `simulate` swaps the real tool for a stand-in that writes outputs of the same shape. */
  runtime: "real" | "simulate";
  /** Python interpreter on the machine the job runs on. */
  python: string;
  /** The model's path when `modelFromStore` resolved a store model id. */
  modelPath?: string;
  /** GPUs per node the job gets. */
  gpus: number;
}

/** A rendered job: argv plus environment. Backends run it; nothing here is shell text. */
export interface RenderedCommand {
  argv: string[];
  env: Record<string, string>;
  /** True when `runtime` was `simulate` for a built-in tool. */
  simulated: boolean;
}

/** Options every draft takes. */
export interface BaseTaskOptions {
  projectName: string;
  taskName: string;
  runtime?: "real" | "simulate" | undefined;
  python?: string | undefined;
  env?: Record<string, string> | undefined;
  secretEnv?: string[] | undefined;
  tags?: string[] | undefined;
}

/** Options for `createTask()`. */
export interface CreateTaskOptions {
  /** Store to write to (default: the file store at `GPU_DAG_HOME`). */
  store?: Store;
}

/**
 * A stored, reusable description of one job. Subclasses define the option schema and how the
 * job's command is rendered.
 */
export abstract class TaskDraft<O extends Record<string, unknown> = Record<string, unknown>> {
  /** The draft's validated options (frozen). */
  readonly options: Readonly<O>;
  /** Store id, set by {@link TaskDraft.createTask} (or when loaded from a store). */
  id: string | undefined;

  protected constructor(options: unknown) {
    this.options = Object.freeze(parseTaskOptions(this.schema(), options, this.className())) as Readonly<O>;
  }

  /** The kind of draft, as stored. */
  abstract get type(): TaskType;
  /** The zod schema of the options. */
  protected abstract schema(): z.ZodType<O>;
  /** Renders the job's argv and env. */
  abstract render(context: RenderContext): RenderedCommand;
  /** A new draft of the same class from (already merged) options. */
  protected abstract withOptions(options: Record<string, unknown>): TaskDraft<O>;

  /** Class name for messages, e.g. `LMEvalTask`. */
  className(): string {
    return this.constructor.name;
  }

  /** Names accepted by {@link TaskDraft.clone} and pipeline `parameterOverride`. */
  parameterNames(): string[] {
    return knownKeys(this.schema());
  }

  /** Project name. */
  get projectName(): string {
    return this.options["projectName"] as string;
  }
  /** Task name. */
  get taskName(): string {
    return this.options["taskName"] as string;
  }

  /** Stores the draft and sets {@link TaskDraft.id}. Returns the id. */
  async createTask(options: CreateTaskOptions = {}): Promise<string> {
    const store = options.store ?? defaultStore();
    const id = this.id ?? newId("task");
    await store.putTask(this.toRecord(id));
    this.id = id;
    return id;
  }

  /** The draft as a store record. */
  toRecord(id = this.id ?? ""): TaskRecord {
    return {
      id,
      type: this.type,
      projectName: this.projectName,
      taskName: this.taskName,
      createdAt: new Date().toISOString(),
      options: { ...this.options },
    };
  }

  /**
   * A new draft with some options replaced. Keys are option names (`modelId`), the seed's
   * `Args/model_id` spelling, or snake_case (`model_id`). The original is never changed; the clone
   * has no id.
   */
  clone(overrides: Readonly<Record<string, unknown>> = {}): TaskDraft<O> {
    const merged: Record<string, unknown> = { ...this.options };
    for (const [key, value] of Object.entries(overrides)) {
      setPath(merged, this.resolveParameterName(key), value);
    }
    return this.withOptions(merged);
  }

  /**
   * Maps a parameter name as a user may write it to an option path, or throws a
   * {@link TaskOptionError} with a "did you mean".
   */
  resolveParameterName(key: string): string[] {
    const known = this.parameterNames();
    const bare = key.replace(/^Args\//, "");
    const camel = bare.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    for (const candidate of [bare, camel]) {
      const [head, ...rest] = candidate.split(".");
      if (head !== undefined && known.includes(head)) return [head, ...rest];
    }
    const extra = this.extraParameterPath(bare);
    if (extra) return extra;
    // Suggested in the spelling the user chose: `args/model_id` → `Args/model_id`, `model-id` → `modelId`.
    const hint = didYouMean(key, [...known, ...known.map((k) => `Args/${snakeCase(k)}`)]) ?? didYouMean(camel, known);
    throw new TaskOptionError(this.className(), key, `${this.className()}: unknown parameter "${key}"${hint ? ` (did you mean "${hint}"?)` : ""}; parameters: ${known.join(", ")}`);
  }

  /** Subclasses may map otherwise unknown names (the custom Task maps them to its `parameters`). */
  protected extraParameterPath(_key: string): string[] | undefined {
    return undefined;
  }
}

/** `modelId` → `model_id` (the seed's `Args/…` spelling). */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  path.slice(0, -1).forEach((key) => {
    const next = node[key];
    const copy: Record<string, unknown> = typeof next === "object" && next !== null && !Array.isArray(next) ? { ...(next as object) } : {};
    node[key] = copy;
    node = copy;
  });
  node[path[path.length - 1]!] = value;
}

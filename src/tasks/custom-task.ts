/**
 * `Task`: a custom job — any command, with named parameters substituted into it.
 *
 * @module
 */
import { z } from "zod";
import { didYouMean } from "../args/did-you-mean.js";
import { TaskOptionError } from "../errors.js";
import { TaskType } from "../store/records.js";
import { baseOptionsShape, knownKeys } from "./option-schemas.js";
import { type BaseTaskOptions, type RenderContext, type RenderedCommand, TaskDraft } from "./task-draft.js";

/** A command word that is exactly `{name}`, and the placeholders inside a word (compiled once). */
const WHOLE_WORD = /^\{([A-Za-z_][A-Za-z0-9_.-]*)\}$/;
const IN_WORD = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Zod schema of {@link TaskOptions}. */
export const TaskOptionsSchema = z.strictObject({
  ...baseOptionsShape,
  /**
   * The command as argv. `{name}` inside a word is replaced by `parameters.name` (no shell is
   * involved, so values need no quoting); `{{` and `}}` are literal braces.
   */
  command: z.array(z.string()).min(1),
  /**
   * Named parameters (the seed's `Args/…` section); overridable per step. A list (e.g. every
   * element's output of a map step, `${gen[*].artifacts.out.url}`) fills a command word that is
   * exactly `{name}` with one word per value, and is written as JSON inside a longer word.
   */
  parameters: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/), z.union([Scalar, z.array(Scalar)])).default({}),
});

/** Options of {@link Task}. */
export type TaskOptions = z.input<typeof TaskOptionsSchema> & BaseTaskOptions;

/**
 * A custom task running `command`. It reports outputs by writing `$GPU_DAG_OUTPUT_DIR/outputs.json`.
 *
 * `{name}` in a command word is replaced by parameter `name` (`{{` and `}}` for literal braces).
 *
 * @example
 * ```ts
 * import { Pipeline, Task } from "gpu-dag";
 *
 * // Reports a metric through the outputs manifest.
 * const score = new Task({
 *   projectName: "docs", taskName: "score",
 *   // "$1" is the parameter, passed as an argument: no quoting to get right inside the script.
 *   command: ["sh", "-c", `echo '{"metrics": {"accuracy": '"$1"'} }' > "$GPU_DAG_OUTPUT_DIR/outputs.json"`, "sh", "{value}"],
 *   parameters: { value: 0.75 },
 * });
 * await score.createTask();
 *
 * const pipeline = new Pipeline({ projectName: "docs", pipelineName: "custom" });
 * pipeline.addStep({ name: "eval", baseTaskId: score.id!, executionQueue: "default", parameterOverride: { value: 0.9 } });
 * const result = await pipeline.executeLocally();
 * console.log(result.metrics); // prints: { eval: { accuracy: 0.9 } }
 * ```
 */
export class Task extends TaskDraft<z.output<typeof TaskOptionsSchema>> {
  constructor(options: TaskOptions) {
    super(options);
    // Renders once so a "{name}" without a parameter fails where the draft is made.
    this.render({ runtime: "real", python: "python3", gpus: 0 });
  }

  get type(): TaskType {
    return TaskType.Custom;
  }
  protected schema() {
    return TaskOptionsSchema;
  }
  protected withOptions(options: Record<string, unknown>): Task {
    return new Task(options as unknown as TaskOptions);
  }

  /** `Args/x`, `x` and `parameters.x` all name parameter `x`. */
  override parameterNames(): string[] {
    return [...super.parameterNames(), ...Object.keys(this.options.parameters).map((p) => `parameters.${p}`)];
  }
  /**
   * `Args/x` and `parameters.x` name parameter `x`, declared or not (as the seed's sections do). A
   * bare name must be an option or a declared parameter: a typo such as `modle` for `model` is an
   * error with a "did you mean", not a new parameter the command never sees.
   */
  override resolveParameterName(key: string): string[] {
    if (key.startsWith("Args/")) return ["parameters", key.slice("Args/".length)];
    if (key.startsWith("parameters.")) return ["parameters", key.slice("parameters.".length)];
    if (key in this.options.parameters) return ["parameters", key];
    if (!knownKeys(this.schema()).includes(key.split(".")[0]!)) {
      const declared = Object.keys(this.options.parameters);
      const hint = didYouMean(key, [...declared, ...declared.map((d) => `Args/${d}`), ...knownKeys(this.schema())]);
      throw new TaskOptionError(
        "Task",
        key,
        `Task: unknown parameter "${key}"${hint ? ` (did you mean "${hint}"?)` : ""}; declared parameters: ${declared.join(", ") || "none"} (write "Args/${key}" to add a new one)`,
      );
    }
    return super.resolveParameterName(key);
  }

  render(_context: RenderContext): RenderedCommand {
    const params = this.options.parameters;
    const parameterValue = (name: string) => {
      const value = params[name];
      if (value === undefined) {
        throw new TaskOptionError("Task", "command", `Task "${this.taskName}": command uses "{${name}}" but parameters has no "${name}" (has: ${Object.keys(params).join(", ") || "none"})`);
      }
      return value;
    };
    const argv = this.options.command.flatMap((word) => {
      const whole = WHOLE_WORD.exec(word);
      const list = whole ? parameterValue(whole[1]!) : undefined;
      if (Array.isArray(list)) return list.map(String);
      return [
        word.replace(IN_WORD, (match, name: string | undefined) => {
          if (match === "{{") return "{";
          if (match === "}}") return "}";
          const value = parameterValue(name!);
          return Array.isArray(value) ? JSON.stringify(value) : String(value);
        }),
      ];
    });
    return { argv, env: { ...this.options.env }, simulated: false };
  }
}

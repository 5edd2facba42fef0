/**
 * `Task`: a custom job — any command, with named parameters substituted into it.
 *
 * @module
 */
import { z } from "zod";
import { TaskOptionError } from "../errors.js";
import { TaskType } from "../store/records.js";
import { baseOptionsShape } from "./option-schemas.js";
import { type BaseTaskOptions, type RenderContext, type RenderedCommand, TaskDraft } from "./task-draft.js";

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Zod schema of {@link TaskOptions}. */
export const TaskOptionsSchema = z.strictObject({
  ...baseOptionsShape,
  /**
   * The command as argv. `{name}` inside a word is replaced by `parameters.name` (no shell is
   * involved, so values need no quoting); `{{` and `}}` are literal braces.
   */
  command: z.array(z.string()).min(1),
  /** Named parameters (the seed's `Args/…` section); overridable per step. */
  parameters: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/), Scalar).default({}),
});

/** Options of {@link Task}. */
export type TaskOptions = z.input<typeof TaskOptionsSchema> & BaseTaskOptions;

/** A custom task running `command`. It reports outputs by writing `$GPU_DAG_OUTPUT_DIR/outputs.json`. */
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
  protected override extraParameterPath(key: string): string[] | undefined {
    return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key) ? ["parameters", key] : undefined;
  }
  override resolveParameterName(key: string): string[] {
    if (key.startsWith("Args/") || key in this.options.parameters) return ["parameters", key.replace(/^Args\//, "")];
    if (key.startsWith("parameters.")) return ["parameters", key.slice("parameters.".length)];
    return super.resolveParameterName(key);
  }

  render(_context: RenderContext): RenderedCommand {
    const params = this.options.parameters;
    const argv = this.options.command.map((word) =>
      word.replace(/\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g, (match, name: string | undefined) => {
        if (match === "{{") return "{";
        if (match === "}}") return "}";
        const value = params[name!];
        if (value === undefined) {
          throw new TaskOptionError("Task", "command", `Task "${this.taskName}": command uses "{${name}}" but parameters has no "${name}" (has: ${Object.keys(params).join(", ") || "none"})`);
        }
        return String(value);
      }),
    );
    return { argv, env: { ...this.options.env }, simulated: false };
  }
}

/**
 * `LLMCompressorTask`: one-shot compression of a model with llm-compressor.
 *
 * @module
 */
import { stringify } from "yaml";
import { z } from "zod";
import { TaskOptionError } from "../errors.js";
import { TaskType } from "../store/records.js";
import { baseOptionsShape, booleanOption, modelOptionsShape, numberOption } from "./option-schemas.js";
import { modelArgument, pythonRunnerCommand, Runner } from "./python-command.js";
import { type CompressorConfig, loadTaskConfig } from "./task-config.js";
import { type BaseTaskOptions, type RenderContext, type RenderedCommand, TaskDraft } from "./task-draft.js";

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Zod schema of {@link LLMCompressorTaskOptions}. */
export const LLMCompressorTaskOptionsSchema = z.strictObject({
  ...baseOptionsShape,
  ...modelOptionsShape,
  /** Bundled config name (`quantization_w4a16`, `quantization_w8a8`, `gptq_w4a16`, `smoothquant_w8a8`), a YAML path, or inline YAML. */
  config: z.string().min(1),
  /** Replaces the config's recipe (YAML text). */
  recipe: z.string().min(1).optional(),
  /** Values for `$name` in the recipe; merged over the config's. */
  recipeArgs: z.record(z.string(), Scalar).optional(),
  /** Calibration set: a local .json/.jsonl file or a dataset name. */
  dataset: z.string().min(1).optional(),
  numSamples: numberOption(z.number().int().positive()).optional(),
  maxSeqLength: numberOption(z.number().int().positive()).optional(),
  saveCompressed: booleanOption.optional(),
});

/** Options of {@link LLMCompressorTask}. */
export type LLMCompressorTaskOptions = z.input<typeof LLMCompressorTaskOptionsSchema> & BaseTaskOptions;

/**
 * Compresses `modelId` with the recipe of `config`; its output model is the compressed model.
 *
 * @example
 * ```ts
 * import { LLMCompressorTask } from "gpu-dag";
 *
 * const compress = new LLMCompressorTask({
 *   projectName: "docs", taskName: "w4a16",
 *   modelId: "meta-llama/Llama-3.2-1B-Instruct",
 *   config: "quantization_w4a16", // a bundled recipe; or a YAML path, or inline YAML
 *   numSamples: 256,
 * });
 * await compress.createTask(); // stored: compress.id goes into Pipeline.addStep({ baseTaskId })
 *
 * // A variant, the original unchanged (keys: option names, `Args/…` or snake_case).
 * const w8a8 = compress.clone({ config: "quantization_w8a8", taskName: "w8a8" });
 * console.log(w8a8.options.config, compress.options.config); // prints: quantization_w8a8 quantization_w4a16
 * ```
 */
export class LLMCompressorTask extends TaskDraft<z.output<typeof LLMCompressorTaskOptionsSchema>> {
  readonly #config: CompressorConfig;

  constructor(options: LLMCompressorTaskOptions) {
    super(options);
    // Resolved now so an unknown or invalid config fails where the draft is made.
    this.#config = loadTaskConfig("llm-compressor", this.options.config, 'LLMCompressorTask option "config"');
  }

  get type(): TaskType {
    return TaskType.LLMCompressor;
  }
  protected schema() {
    return LLMCompressorTaskOptionsSchema;
  }
  protected withOptions(options: Record<string, unknown>): LLMCompressorTask {
    return new LLMCompressorTask(options as unknown as LLMCompressorTaskOptions);
  }
  /** The resolved config (bundled, file or inline). */
  config(): CompressorConfig {
    return this.#config;
  }

  /** The recipe text with `$name` / `${name}` arguments substituted. */
  recipeText(): string {
    const config = this.config();
    const raw = this.options.recipe ?? (typeof config.recipe === "string" ? config.recipe : stringify(config.recipe));
    const args = { ...config.recipeArgs, ...this.options.recipeArgs };
    return raw.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (match, name: string) => {
      const value = args[name];
      if (value === undefined) {
        throw new TaskOptionError("LLMCompressorTask", "recipeArgs", `LLMCompressorTask: recipe uses "${match}" but recipeArgs has no "${name}" (has: ${Object.keys(args).join(", ") || "none"})`);
      }
      return String(value);
    });
  }

  render(context: RenderContext): RenderedCommand {
    const config = this.config();
    const o = this.options;
    return pythonRunnerCommand(
      Runner.Compress,
      [
        ["--model", modelArgument(o, context)],
        ["--recipe-yaml", this.recipeText()],
        ["--dataset", o.dataset ?? config.dataset],
        ["--num-samples", o.numSamples ?? config.numSamples],
        ["--max-seq-length", o.maxSeqLength ?? config.maxSeqLength],
        ["--save-compressed", String(o.saveCompressed ?? config.saveCompressed ?? true)],
      ],
      context,
      o.env,
    );
  }
}

/**
 * `LMEvalTask`: evaluation of a model with lm-evaluation-harness.
 *
 * @module
 */
import { z } from "zod";
import { TaskOptionError } from "../errors.js";
import { TaskType } from "../store/records.js";
import { baseOptionsShape, booleanOption, modelOptionsShape, numberOption } from "./option-schemas.js";
import { modelArgument, pythonRunnerCommand, Runner } from "./python-command.js";
import { type EvalConfig, loadTaskConfig } from "./task-config.js";
import { type BaseTaskOptions, type RenderContext, type RenderedCommand, TaskDraft } from "./task-draft.js";

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Zod schema of {@link LMEvalTaskOptions}. */
export const LMEvalTaskOptionsSchema = z.strictObject({
  ...baseOptionsShape,
  ...modelOptionsShape,
  /** Bundled config name (`openllm`, `leaderboard`), a YAML path, or inline YAML. */
  config: z.string().min(1),
  /** Replaces the config's task list. */
  tasks: z.array(z.string().min(1)).min(1).optional(),
  numFewshot: numberOption(z.number().int().min(0)).optional(),
  batchSize: z.union([numberOption(z.number().int().positive()), z.literal("auto"), z.string().regex(/^auto:\d+$/, 'must be a positive integer, "auto" or "auto:N"')]).optional(),
  /** `hf` (transformers) or `vllm` (tensor parallel = the job's GPUs). */
  backend: z.enum(["hf", "vllm"]).optional(),
  limit: numberOption(z.number().positive()).optional(),
  applyChatTemplate: booleanOption.optional(),
  modelArgs: z.record(z.string(), Scalar).optional(),
  /** Directory of extra lm-eval task YAMLs (`--include_path`). */
  includePath: z.string().min(1).optional(),
  /** `cpu` or `cuda` (default: `cuda` when the job has GPUs). */
  device: z.enum(["cpu", "cuda"]).optional(),
  /**
   * Split the tasks' groups into their leaf subtasks, one job each, then recombine the group
   * scores with lm-eval's own aggregation; `evalSplit()` (`tasks/lm-eval-split.ts`) gives the steps' overrides. Default
   * `false`: one job evaluates every task, as before.
   */
  splitSubtasks: booleanOption.optional(),
  /** Render the job that lists the leaf subtasks of `tasks` (`subtasks.json`, a JSON array of names). No GPU, no dataset. */
  listSubtasks: booleanOption.optional(),
  /** Evaluate only this leaf subtask of `tasks`, built as its group builds it (one element of a split evaluation). */
  subtask: z.string().min(1).optional(),
  /**
   * Render the job that recombines the subtask runs' results into the group scores (the metrics an
   * unsplit run writes): from `elements` (a map's elements file; each element's `results`
   * artifact) or `results` (results JSON paths, or one JSON array of paths). No GPU.
   */
  recombine: z.strictObject({ elements: z.string().min(1).optional(), results: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional() }).optional(),
});

/** Options of {@link LMEvalTask}. */
export type LMEvalTaskOptions = z.input<typeof LMEvalTaskOptionsSchema> & BaseTaskOptions;

/**
 * Evaluates `modelId` on the tasks of `config`; every metric is recorded as `task/metric`.
 *
 * @example
 * ```ts
 * import { LLMCompressorTask, LMEvalTask, Pipeline } from "gpu-dag";
 *
 * const compress = new LLMCompressorTask({
 *   projectName: "docs", taskName: "w4a16", modelId: "meta-llama/Llama-3.2-1B-Instruct", config: "quantization_w4a16",
 * });
 * await compress.createTask();
 * // modelFromStore: the model id is a store model id (here: step1's output), resolved to its path.
 * const evaluate = new LMEvalTask({
 *   projectName: "docs", taskName: "openllm", modelId: "dummy", modelFromStore: true, config: "openllm", batchSize: "auto",
 * });
 * await evaluate.createTask();
 *
 * const pipeline = new Pipeline({ projectName: "docs", pipelineName: "compress-eval" });
 * pipeline.addStep({ name: "step1", baseTaskId: compress.id!, executionQueue: "oneshot-a100x1" });
 * pipeline.addStep({
 *   name: "step2", baseTaskId: evaluate.id!, executionQueue: "oneshot-a100x1",
 *   parameterOverride: { modelId: "${step1.models.output.-1.id}" }, // makes step1 a parent too
 * });
 * // `simulate` runs stand-ins for the tools (no GPU or ML packages needed); drop it for the real run.
 * const result = await pipeline.executeLocally({ runtime: "simulate", cluster: { executor: "local", gpus: 1 } });
 * console.log(result.status, Object.keys(result.metrics).length > 0); // prints: succeeded true
 * ```
 */
export class LMEvalTask extends TaskDraft<z.output<typeof LMEvalTaskOptionsSchema>> {
  readonly #config: EvalConfig;

  constructor(options: LMEvalTaskOptions) {
    super(options);
    // Resolved now so an unknown or invalid config fails where the draft is made.
    this.#config = loadTaskConfig("lm-eval", this.options.config, 'LMEvalTask option "config"');
    this.#validateSplit();
  }
  #validateSplit(): void {
    const o = this.options;
    const fail = (option: string, why: string) => {
      throw new TaskOptionError("LMEvalTask", option, `LMEvalTask option "${option}": ${why}`);
    };
    const roles = (["listSubtasks", "subtask", "recombine"] as const).filter((k) => o[k] !== undefined && o[k] !== false);
    if (roles.length > 1) fail(roles[1]!, `cannot be combined with ${roles[0]}`);
    if (o.splitSubtasks && roles.length > 0) fail(roles[0]!, "is set by the split's steps when splitSubtasks is true; leave it unset");
    if (o.recombine && (o.recombine.elements === undefined) === (o.recombine.results === undefined)) fail("recombine", "give elements or results (one of them)");
  }

  /** The task and group names evaluated (the option, else the config's). */
  tasks(): string[] {
    return [...(this.options.tasks ?? this.config().tasks)];
  }

  get type(): TaskType {
    return TaskType.LMEval;
  }
  protected schema() {
    return LMEvalTaskOptionsSchema;
  }
  protected withOptions(options: Record<string, unknown>): LMEvalTask {
    return new LMEvalTask(options as unknown as LMEvalTaskOptions);
  }
  /** The resolved config (bundled, file or inline). */
  config(): EvalConfig {
    return this.#config;
  }

  render(context: RenderContext): RenderedCommand {
    const config = this.config();
    const o = this.options;
    const where = [
      ["--tasks", this.tasks().join(",")],
      ["--include-path", o.includePath ?? config.includePath],
    ] as const;
    if (o.listSubtasks) return pythonRunnerCommand(Runner.Evaluate, where, context, o.env, [], "list");
    if (o.recombine) {
      const results = o.recombine.results === undefined ? [] : ["--results", ...(Array.isArray(o.recombine.results) ? o.recombine.results : [o.recombine.results])];
      return pythonRunnerCommand(Runner.Evaluate, [...where, ["--elements", o.recombine.elements]], context, o.env, results, "recombine");
    }
    const backend = o.backend ?? config.backend ?? "hf";
    const modelArgs = { ...config.modelArgs, ...o.modelArgs };
    const numFewshot = o.numFewshot ?? config.numFewshot ?? undefined;
    return pythonRunnerCommand(
      Runner.Evaluate,
      [
        ["--model", modelArgument(o, context)],
        ["--backend", backend],
        ...where,
        ["--num-fewshot", numFewshot],
        ["--batch-size", o.batchSize ?? config.batchSize],
        ["--limit", o.limit ?? config.limit],
        ["--apply-chat-template", o.applyChatTemplate ?? config.applyChatTemplate ?? false],
        ["--tensor-parallel-size", backend === "vllm" && context.gpus > 0 ? context.gpus : undefined],
        [
          "--model-args",
          Object.keys(modelArgs).length
            ? Object.entries(modelArgs)
                .map(([k, v]) => `${k}=${v}`)
                .join(",")
            : undefined,
        ],
        ["--device", o.device ?? (context.gpus > 0 ? "cuda" : "cpu")],
        ["--subtask", o.subtask],
      ],
      context,
      o.env,
    );
  }
}

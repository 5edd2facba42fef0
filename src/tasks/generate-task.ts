/**
 * `GenerateTask`: NeMo-Skills-style generation with a model server co-scheduled in the same job.
 *
 * @module
 */
import { z } from "zod";
import { checkKnownKeys, WrappedArguments, wrapArguments } from "../args/index.js";
import { TaskOptionError } from "../errors.js";
import { TaskType } from "../store/records.js";
import { baseOptionsShape, booleanOption, modelOptionsShape, numberOption } from "./option-schemas.js";
import { modelArgument, pythonRunnerCommand, Runner } from "./python-command.js";
import { type GenerateConfig, loadTaskConfig } from "./task-config.js";
import { type BaseTaskOptions, type RenderContext, type RenderedCommand, TaskDraft } from "./task-draft.js";

/**
 * `++keys` the built-in generation runner understands. Unknown ones are rejected before anything
 * is submitted (with a "did you mean"), unless `script` names the user's own main script.
 */
export const GENERATE_MAIN_KEYS = [
  "prompt_config",
  "system_message",
  "generation_key",
  "max_samples",
  "skip_filled",
  "use_completions_api",
  "max_concurrent_requests",
  "inference.temperature",
  "inference.top_p",
  "inference.top_k",
  "inference.min_p",
  "inference.tokens_to_generate",
  "inference.repetition_penalty",
  "inference.random_seed",
  "inference.stop",
  "inference.stop_phrases",
] as const;

/** Server types: `openai` starts none (use `serverAddress`); `custom` runs `serverCommand`. */
export const SERVER_TYPES = ["vllm", "sglang", "trtllm", "openai", "transformers", "custom"] as const;

/** Zod schema of {@link GenerateTaskOptions}. */
export const GenerateTaskOptionsSchema = z.strictObject({
  ...baseOptionsShape,
  ...modelOptionsShape,
  /** Bundled config name (`generic_generate`), a YAML path, or inline YAML. Optional. */
  config: z.string().min(1).optional(),
  /** `vllm`, `sglang`, `trtllm`, `openai` (no server: use `serverAddress`), `transformers` (CPU), `custom` (`serverCommand`). */
  serverType: z.enum(SERVER_TYPES).optional(),
  /** The server launch command for `custom`, with `{model}`, `{port}`, `{gpus}` filled in by the job. */
  serverCommand: z.string().min(1).optional(),
  /** GPUs for the server (default: the job's GPUs). */
  serverGpus: numberOption(z.number().int().min(0)).optional(),
  serverNodes: numberOption(z.number().int().positive()).default(1),
  /** Extra server arguments, as one string. */
  serverArgs: z.string().optional(),
  /** Base URL of an existing OpenAI-compatible server (with `serverType: openai`). */
  serverAddress: z.string().url().optional(),
  /** Input JSONL, one row per prompt. */
  inputFile: z.string().min(1),
  /** Output JSONL (default: `output.jsonl` in the attempt directory). */
  outputFile: z.string().min(1).optional(),
  /** Prompt config YAML: `system`, `user` template with `{field}`s, optional few-shot examples. */
  promptConfig: z.string().min(1).optional(),
  /** Random seeds: one output file per seed, `output-rs{S}.jsonl`, request seed `inference.random_seed + S`. */
  numRandomSeeds: numberOption(z.number().int().positive()).optional(),
  /** Contiguous slices of the input. In one job: this job does slice `chunkId`. */
  numChunks: numberOption(z.number().int().positive()).optional(),
  chunkId: numberOption(z.number().int().min(0)).optional(),
  /**
   * Fan out over (seed, chunk): one job per element, each with its own server, then one merge per
   * seed; `generationFanOut()` (`tasks/generate-fan-out.ts`) gives the map axes and each job's overrides. The map sets
   * `seedIndex` and `chunkId`, so they must be unset here; `script` cannot be used. Default
   * `false`: one job generates every seed (of chunk `chunkId`), as before.
   */
  fanOut: booleanOption.optional(),
  /**
   * Run one element: only seed `seedIndex` (below `numRandomSeeds`) of chunk `chunkId`, into its
   * shard `<stem>.chunk-{C}-of-{N}.rows-{a}-{b}.jsonl` (rows a to b, b exclusive; stem `output-rs{S}`,
   * or `output` with one seed) with resume per shard. With `merge`: the seed to merge.
   */
  seedIndex: numberOption(z.number().int().min(0)).optional(),
  /** Where element shards are written and a merge without `elements`/`shards` finds them (default: the output file's directory). */
  shardDir: z.string().min(1).optional(),
  /**
   * Render the merge job of seed `seedIndex` instead of generating: it checks that every chunk's
   * shard is there and complete (their rows add up to the input's) and writes the seed's final
   * file atomically. Shards from `elements` (a map's elements file), `shards` (paths, or one JSON
   * array of paths), or else the files in `shardDir`. Needs no GPU and no server.
   */
  merge: z.strictObject({ elements: z.string().min(1).optional(), shards: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional() }).optional(),
  maxConcurrency: numberOption(z.number().int().positive()).optional(),
  /** Seconds to wait for the server to become ready. */
  serverTimeout: numberOption(z.number().int().positive()).optional(),
  /** Main arguments passed through to the main script: `wrapArguments("++a=1 ++b=2")` text or argv. */
  extraArguments: z.union([z.string(), z.array(z.string())]).optional(),
  /** The user's own main script instead of the built-in runner (its `++keys` are not checked). */
  script: z.string().min(1).optional(),
});

/** Options of {@link GenerateTask}. */
export type GenerateTaskOptions = z.input<typeof GenerateTaskOptionsSchema> & BaseTaskOptions;

/**
 * Generates one answer per input row with a model server started in the same job.
 *
 * @example
 * ```ts
 * import { GenerateTask } from "gpu-dag";
 *
 * const generate = new GenerateTask({
 *   projectName: "docs", taskName: "math",
 *   modelId: "Qwen/Qwen2.5-1.5B-Instruct",
 *   serverType: "vllm", serverGpus: 1, // vllm serve … in the same job, on the job's GPUs
 *   inputFile: "/data/math.jsonl",
 *   // Main arguments for the generation runner, split like wrapArguments() and checked
 *   // against GENERATE_MAIN_KEYS (a typo fails here, with a "did you mean").
 *   extraArguments: "++prompt_config=generic/math ++inference.temperature=0.6",
 * });
 * await generate.createTask();
 * console.log(generate.type); // prints: generate
 * ```
 */
export class GenerateTask extends TaskDraft<z.output<typeof GenerateTaskOptionsSchema>> {
  readonly #config: GenerateConfig;

  constructor(options: GenerateTaskOptions) {
    super(options);
    this.#config = this.options.config === undefined ? { kind: "generate" } : loadTaskConfig("generate", this.options.config, 'GenerateTask option "config"');
    this.#validate();
  }

  get type(): TaskType {
    return TaskType.Generate;
  }
  protected schema() {
    return GenerateTaskOptionsSchema;
  }
  protected withOptions(options: Record<string, unknown>): GenerateTask {
    return new GenerateTask(options as unknown as GenerateTaskOptions);
  }
  #validate(): void {
    const extra = this.extraArguments();
    const problems = this.options.script ? [] : checkKnownKeys(extra, GENERATE_MAIN_KEYS, "GenerateTask extraArguments");
    if (problems.length > 0) {
      throw new TaskOptionError("GenerateTask", "extraArguments", problems.map((p) => p.message).join("\n"));
    }
    const serverType = this.serverType();
    if (serverType === "openai" && !this.options.serverAddress) {
      throw new TaskOptionError("GenerateTask", "serverAddress", 'GenerateTask option "serverAddress": required when serverType is "openai" (no server is started)');
    }
    if (serverType === "custom" && !this.options.serverCommand) {
      throw new TaskOptionError("GenerateTask", "serverCommand", 'GenerateTask option "serverCommand": required when serverType is "custom"');
    }
    if (this.options.chunkId !== undefined && this.options.chunkId >= (this.options.numChunks ?? 1)) {
      throw new TaskOptionError("GenerateTask", "chunkId", `GenerateTask option "chunkId": must be below numChunks (${this.options.numChunks ?? 1}), got ${this.options.chunkId}`);
    }
    this.#validateFanOut();
  }
  #validateFanOut(): void {
    const o = this.options;
    const fail = (option: string, why: string) => {
      throw new TaskOptionError("GenerateTask", option, `GenerateTask option "${option}": ${why}`);
    };
    if (o.seedIndex !== undefined && o.seedIndex >= this.numRandomSeeds()) fail("seedIndex", `must be below numRandomSeeds (${this.numRandomSeeds()}), got ${o.seedIndex}`);
    for (const [option, set] of [
      ["fanOut", o.fanOut === true],
      ["seedIndex", o.seedIndex !== undefined],
      ["merge", o.merge !== undefined],
    ] as const) {
      if (set && o.script) fail(option, "needs the built-in generation client; it cannot be used with script");
    }
    if (o.fanOut) {
      for (const [option, set] of [
        ["chunkId", o.chunkId],
        ["seedIndex", o.seedIndex],
        ["merge", o.merge],
      ] as const) {
        if (set !== undefined) fail(option, "is set per element by the map when fanOut is true; leave it unset");
      }
    }
    if (o.merge?.elements !== undefined && o.merge.shards !== undefined) fail("merge", "give elements or shards, not both");
  }

  /** Seeds after config defaults (1 when unset). */
  numRandomSeeds(): number {
    return this.options.numRandomSeeds ?? this.config().numRandomSeeds ?? 1;
  }

  /** The resolved config, or an empty one. */
  config(): GenerateConfig {
    return this.#config;
  }

  /** The passthrough main arguments, parsed. */
  extraArguments() {
    const extra = this.options.extraArguments;
    return Array.isArray(extra) ? WrappedArguments.fromArgv(extra) : wrapArguments(extra ?? "");
  }

  /** The server type after config defaults. */
  serverType(): NonNullable<GenerateTaskOptions["serverType"]> {
    return this.options.serverType ?? this.config().serverType ?? "vllm";
  }

  /**
   * The server launch command for the GPU servers, rendered here so it shows in dry runs and batch
   * scripts (tensor parallel = the server's GPUs); the job fills in `{model}` and `{port}`.
   */
  serverCommand(gpus: number): string | undefined {
    const type = this.serverType();
    const extra = this.options.serverArgs ?? this.config().serverArgs ?? "";
    const nodes = this.options.serverNodes;
    const tp = Math.max(1, gpus);
    const base =
      type === "vllm"
        ? `vllm serve {model} --host 127.0.0.1 --port {port} --tensor-parallel-size ${tp}${nodes > 1 ? ` --pipeline-parallel-size ${nodes} --distributed-executor-backend ray` : ""}`
        : type === "sglang"
          ? `python -m sglang.launch_server --model-path {model} --host 127.0.0.1 --port {port} --tp ${tp * nodes}`
          : type === "trtllm"
            ? `trtllm-serve {model} --host 127.0.0.1 --port {port} --tp_size ${tp * nodes} --pp_size 1`
            : type === "custom"
              ? this.options.serverCommand
              : undefined;
    return base === undefined ? undefined : `${base}${extra && type !== "custom" ? ` ${extra}` : ""}`;
  }

  render(context: RenderContext): RenderedCommand {
    if (this.options.merge) return this.#renderMerge(this.options.merge, context);
    const config = this.config();
    const o = this.options;
    const gpus = o.serverGpus ?? context.gpus;
    const serverCommand = this.serverCommand(gpus);
    const command = pythonRunnerCommand(
      Runner.Generate,
      [
        ["--server-type", this.serverType()],
        ["--model", modelArgument(o, context)],
        ["--server-gpus", gpus],
        ["--server-nodes", o.serverNodes],
        ["--server-command", serverCommand],
        // Folded into the rendered server command when there is one.
        ["--server-args", serverCommand === undefined || this.serverType() === "custom" ? (o.serverArgs ?? config.serverArgs) : undefined],
        ["--server-address", o.serverAddress],
        ["--input-file", o.inputFile],
        ["--output-file", o.outputFile],
        ["--prompt-config", o.promptConfig ?? config.promptConfig],
        ["--num-random-seeds", o.numRandomSeeds ?? config.numRandomSeeds],
        ["--num-chunks", o.numChunks],
        ["--chunk-id", o.numChunks !== undefined ? (o.chunkId ?? 0) : undefined],
        ["--seed-index", o.seedIndex],
        ["--shard-dir", o.shardDir],
        ["--max-concurrency", o.maxConcurrency ?? config.maxConcurrency],
        ["--timeout-s", o.serverTimeout],
        ["--script", o.script],
      ],
      context,
      o.env,
      this.extraArguments().argv,
    );
    return command;
  }

  /** `python -m gpu_dag_runtime.generate merge …` for seed `seedIndex`. */
  #renderMerge(merge: NonNullable<GenerateTaskOptionsOutput["merge"]>, context: RenderContext): RenderedCommand {
    const o = this.options;
    const shards = merge.shards === undefined ? [] : ["--shards", ...(Array.isArray(merge.shards) ? merge.shards : [merge.shards])];
    const flags = [
      ["--input-file", o.inputFile],
      ["--num-chunks", o.numChunks ?? 1],
      ["--seed-index", o.seedIndex ?? 0],
      ["--num-random-seeds", this.numRandomSeeds()],
      ["--output-file", o.outputFile],
      ["--elements", merge.elements],
      ["--shard-dir", merge.elements === undefined && merge.shards === undefined ? o.shardDir : undefined],
    ] as const;
    return pythonRunnerCommand(Runner.Generate, flags, context, o.env, [...this.extraArguments().argv, ...shards], "merge");
  }
}

type GenerateTaskOptionsOutput = z.output<typeof GenerateTaskOptionsSchema>;

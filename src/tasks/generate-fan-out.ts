/**
 * A `GenerateTask` with `fanOut: true` as a map: one element job per (seed, chunk), each with its
 * own co-scheduled server, writing its chunk's shard; then one merge job per seed. Pure functions
 * of the task's options: what the pipeline needs to expand the task into map steps.
 *
 * @module
 */
import type { GenerateTask } from "./generate-task.js";
import type { RenderContext, RenderedCommand } from "./task-draft.js";

/** One element of a fanned-out generation: seed index `seed` of chunk `chunk`. */
export interface GenerationElement {
  seed: number;
  chunk: number;
}

/** Artifact names the generation jobs report in `outputs.json`. */
export const GenerationArtifacts = {
  /** An element's shard: `<stem>.chunk-{C}-of-{N}.rows-{a}-{b}.jsonl`. */
  shard: "shard",
  /** A merge job's final file, under the same name for every seed. */
  merged: "merged",
} as const;

/**
 * The fan-out plan of a task; `undefined` unless its `fanOut` is true.
 *
 * Element step: a map over {@link GenerationFanOut.axes} whose elements get
 * {@link GenerationFanOut.elementOverrides}; merge step: a map over
 * {@link GenerationFanOut.mergeAxes} with {@link GenerationFanOut.mergeOverrides}.
 */
export interface GenerationFanOut {
  /** Map axes of the element step: `{ seed: [0 … seeds−1], chunk: [0 … chunks−1] }` (chunk fastest). */
  axes: { seed: number[]; chunk: number[] };
  /** The elements in the map's order (seed-major, as {@link GenerationFanOut.axes} expand). */
  elements: GenerationElement[];
  /**
   * `parameterOverride` of every element: `{ fanOut: "false", seedIndex: "${item.seed}", chunkId: "${item.chunk}" }`
   * (the element is one job, so its own draft does not fan out again).
   */
  elementOverrides: Readonly<Record<string, string>>;
  /** Map axes of the merge step: `{ seed: [0 … seeds−1] }`. */
  mergeAxes: { seed: number[] };
  /**
   * `parameterOverride` of the merge of one seed, reading the shards from the elements file of
   * map step `elementStep` (its elements with this seed: `${<elementStep>[item].elements}`; the
   * merge ignores other seeds' shards, so `[*]` works too).
   */
  mergeOverrides(elementStep: string): Readonly<Record<string, string>>;
  /** The artifact a merge reports its seed's file under besides `merged`: `output`, or `output-rs{S}` with several seeds. */
  outputArtifact(seed: number): string;
}

/** The (seed, chunk) elements for `task`'s `numRandomSeeds` and `numChunks` (1 each when unset), seed-major. */
export function generationElements(task: GenerateTask): GenerationElement[] {
  const seeds = task.numRandomSeeds();
  const chunks = task.options.numChunks ?? 1;
  const elements: GenerationElement[] = [];
  for (let seed = 0; seed < seeds; seed++) for (let chunk = 0; chunk < chunks; chunk++) elements.push({ seed, chunk });
  return elements;
}

/** The fan-out plan of `task`, or `undefined` when it runs as one job (`fanOut` unset or false). */
export function generationFanOut(task: GenerateTask): GenerationFanOut | undefined {
  if (task.options.fanOut !== true) return undefined;
  const seeds = [...Array(task.numRandomSeeds()).keys()];
  const chunks = [...Array(task.options.numChunks ?? 1).keys()];
  const many = seeds.length > 1;
  return {
    axes: { seed: seeds, chunk: chunks },
    elements: generationElements(task),
    elementOverrides: { fanOut: "false", seedIndex: "${item.seed}", chunkId: "${item.chunk}" },
    mergeAxes: { seed: seeds },
    mergeOverrides: (elementStep) => ({ fanOut: "false", seedIndex: "${item.seed}", "merge.elements": `\${${elementStep}[item].elements}` }),
    outputArtifact: (seed) => (many ? `output-rs${seed}` : "output"),
  };
}

/** The job of one element: `task` with `seedIndex` and `chunkId` set, rendered (`fanOut` dropped). */
export function generationElementCommand(task: GenerateTask, element: GenerationElement, context: RenderContext): RenderedCommand {
  return task.clone({ fanOut: false, seedIndex: element.seed, chunkId: element.chunk }).render(context);
}

/** Where a merge finds the shards: a map's elements file, shard paths, or (neither) the shard directory. */
export interface GenerationMergeSource {
  elements?: string;
  shards?: string | string[];
}

/** The merge job of seed `seed`: `python -m gpu_dag_runtime.generate merge …`. */
export function generationMergeCommand(task: GenerateTask, seed: number, source: GenerationMergeSource, context: RenderContext): RenderedCommand {
  const merge: Record<string, unknown> = {};
  if (source.elements !== undefined) merge["elements"] = source.elements;
  if (source.shards !== undefined) merge["shards"] = source.shards;
  return task.clone({ fanOut: false, seedIndex: seed, merge }).render(context);
}

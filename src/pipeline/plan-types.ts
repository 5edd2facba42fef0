/**
 * What validation produces and the runner executes: the plan of a pipeline, step by step.
 *
 * @module
 */
import type { TaskDraft } from "../tasks/task-draft.js";
import type { PlannedElement, PlannedMap } from "./map-spec.js";
import type { PipelineSpec, StepSpec } from "./pipeline-spec.js";
import type { Placeholder } from "./placeholders.js";

/** A validated step. */
export interface PlannedStep {
  /** The step with pipeline defaults applied. */
  spec: StepSpec;
  /** The base draft (never mutated; each attempt runs a clone). */
  task: TaskDraft;
  /** Declared parents plus steps referenced by placeholders, sorted. */
  parents: string[];
  children: string[];
  /** Placeholders in `parameterOverride`. */
  placeholders: Placeholder[];
  /** Longest path (in steps) from here to the end: steps on long chains start first. */
  priority: number;
  /** Set on a map step: it runs no job; its elements do (see expand-maps.ts). */
  map?: PlannedMap;
  /** Set on an element of a map step (`gen[3]`). */
  element?: PlannedElement;
}

/** A validated pipeline, ready to run. */
export interface PipelinePlan {
  spec: PipelineSpec;
  steps: ReadonlyMap<string, PlannedStep>;
  /** Topological order. */
  order: readonly string[];
}

/**
 * The records a store holds. Plain JSON data; the zod schemas validate what is read back.
 *
 * @module
 */
import { z } from "zod";

/** Kinds of task drafts. */
export const TaskType = {
  LLMCompressor: "llm-compressor",
  LMEval: "lm-eval",
  Generate: "generate",
  Custom: "custom",
} as const;
/** One of {@link TaskType}'s values. */
export type TaskType = (typeof TaskType)[keyof typeof TaskType];

/** A stored task draft. `options` are the draft's validated constructor options. */
export const TaskRecordSchema = z.object({
  id: z.string(),
  type: z.enum([TaskType.LLMCompressor, TaskType.LMEval, TaskType.Generate, TaskType.Custom]),
  projectName: z.string(),
  taskName: z.string(),
  createdAt: z.string(),
  options: z.record(z.string(), z.unknown()),
});
export type TaskRecord = z.infer<typeof TaskRecordSchema>;

/** A model a step produced. `path` is where the job that made it saw it. */
export const ModelRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  path: z.string(),
  framework: z.string(),
  /** Cluster (config name) whose filesystem `path` is on. */
  cluster: z.string(),
  runId: z.string(),
  step: z.string(),
  attempt: z.number().int(),
  simulated: z.boolean(),
  createdAt: z.string(),
});
export type ModelRecord = z.infer<typeof ModelRecordSchema>;

/** A file a step produced. */
export const ArtifactRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  path: z.string(),
  cluster: z.string(),
  runId: z.string(),
  step: z.string(),
  attempt: z.number().int(),
  createdAt: z.string(),
});
export type ArtifactRecord = z.infer<typeof ArtifactRecordSchema>;

/**
 * What a run is called and how it is found: an optional `name` (several runs may share one: a
 * name given as a run ref means the newest of them), free-form `tags`, and the runs it waits for
 * (`runAfter`: ids or names; each must succeed before this run's steps start).
 */
export const RunLabelsShape = {
  name: z.string().min(1).optional(),
  /** Free-form labels (`runs --tag`, `models --tag`). */
  tags: z.array(z.string().min(1)).optional(),
  runAfter: z.array(z.string().min(1)).optional(),
};

/** What a run name or tag may hold: it is typed on command lines, in `run:step` refs and comma lists. */
export const RUN_LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.+=@/-]{0,127}$/;

/** Why `value` cannot be a run name or tag (`undefined` when it can). */
export function runLabelProblem(value: string): string | undefined {
  if (RUN_LABEL_PATTERN.test(value)) return undefined;
  return 'use 1-128 letters, digits and "_ . + = @ / -", starting with a letter or digit (no spaces, ":" or ",")';
}

/** A run's fixed description, written once when the run is created. */
export const RunRecordSchema = z.object({
  id: z.string(),
  ...RunLabelsShape,
  projectName: z.string(),
  pipelineName: z.string(),
  createdAt: z.string(),
  /** Cluster config name and where it came from. */
  cluster: z.object({ name: z.string(), source: z.string() }),
  /** The pipeline as data (see `PipelineSpec`), with the task drafts it uses. */
  pipeline: z.unknown(),
  tasks: z.array(TaskRecordSchema),
  /** Where the controller runs: this process, a detached daemon, a Slurm job. */
  mode: z.enum(["local", "detached", "slurm"]).default("local"),
  /** The cluster config as resolved when the run was created (no secrets: those stay in the environment). */
  clusterConfig: z.unknown().optional(),
  /** Run options a resumed or detached controller needs. */
  options: z
    .object({
      runtime: z.enum(["real", "simulate"]).optional(),
      parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    })
    .default({ parameters: {} }),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

/** One point of a metric series: the value a job reported at one iteration. */
export const MetricPointSchema = z.object({ iteration: z.number(), value: z.number() });
export type MetricPoint = z.infer<typeof MetricPointSchema>;

/** The outputs of one successful attempt, as recorded (models and artifacts carry store ids). */
export const StepOutputsSchema = z.object({
  models: z.array(z.object({ id: z.string(), name: z.string(), path: z.string(), framework: z.string() })),
  artifacts: z.array(z.object({ id: z.string(), name: z.string(), path: z.string() })),
  /** The last value of each metric. */
  metrics: z.record(z.string(), z.number()),
  /** Metrics reported more than once (a scalar per iteration), in report order; `metrics` holds the last value. */
  series: z.record(z.string(), z.array(MetricPointSchema)).optional(),
  /** lm-eval's groups: group name → its direct subtasks (`group_subtasks`), for reports. */
  groups: z.record(z.string(), z.array(z.string())).optional(),
  simulated: z.boolean(),
});
export type StepOutputs = z.infer<typeof StepOutputsSchema>;

/** A successful step's outputs, indexed by its cache key (`cacheExecutedStep`). */
export const CacheEntrySchema = z.object({
  key: z.string(),
  runId: z.string(),
  step: z.string(),
  outputs: StepOutputsSchema,
  createdAt: z.string(),
});
export type CacheEntry = z.infer<typeof CacheEntrySchema>;

const at = { at: z.number() };

/**
 * One line of a run journal. Written (fsynced) before the controller acts on it, so a run can be
 * replayed after a crash. The controller's state is a fold over these entries.
 */
export const JournalEntrySchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("run-started"), ...at, controller: z.string() }),
  z.object({
    type: z.literal("attempt-planned"),
    ...at,
    step: z.string(),
    attempt: z.number().int(),
    jobName: z.string(),
    /** Resolved command and parameters, for `status`, caching and debugging. */
    argv: z.array(z.string()),
    parameters: z.record(z.string(), z.unknown()),
    queue: z.string(),
    cacheKey: z.string().optional(),
  }),
  z.object({
    type: z.literal("job-submitted"),
    ...at,
    step: z.string(),
    attempt: z.number().int(),
    backendJobId: z.string(),
  }),
  z.object({ type: z.literal("job-started"), ...at, step: z.string(), attempt: z.number().int() }),
  /** Why a queued job waits (its backend's `queued` reason, e.g. a GPU another run holds); "" clears it. */
  z.object({ type: z.literal("job-waiting"), ...at, step: z.string(), attempt: z.number().int(), reason: z.string() }),
  z.object({
    type: z.literal("attempt-finished"),
    ...at,
    step: z.string(),
    attempt: z.number().int(),
    status: z.enum(["succeeded", "failed", "cancelled", "lost"]),
    exitCode: z.number().int().nullable(),
    infrastructure: z.boolean(),
    reason: z.string(),
    outputs: StepOutputsSchema.optional(),
  }),
  z.object({ type: z.literal("step-skipped"), ...at, step: z.string(), reason: z.string() }),
  // A map whose items came from a parent (itemsFrom) made its elements from these items.
  z.object({
    type: z.literal("map-expanded"),
    ...at,
    step: z.string(),
    items: z.array(z.union([z.string(), z.number(), z.boolean(), z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))])),
  }),
  // A map step settled once every element was final (its elements have entries of their own).
  z.object({
    type: z.literal("map-finished"),
    ...at,
    step: z.string(),
    status: z.enum(["succeeded", "failed", "skipped", "cancelled"]),
    total: z.number().int(),
    required: z.number().int(),
    succeeded: z.number().int(),
    missing: z.array(z.string()),
    reason: z.string().optional(),
  }),
  z.object({
    type: z.literal("step-cached"),
    ...at,
    step: z.string(),
    fromRunId: z.string(),
    fromStep: z.string(),
    outputs: StepOutputsSchema,
  }),
  z.object({
    type: z.literal("run-finished"),
    ...at,
    status: z.enum(["succeeded", "failed", "cancelled"]),
    /** Why the run failed as a whole (not one step's failure), e.g. a refused SSH connection. */
    reason: z.string().optional(),
  }),
  /**
   * What the backend said about its connection (`BackendNotice`): `kind` (`connection-lost`,
   * `connection-restored`) and the line users see. Informational: replay keeps the latest.
   */
  z.object({ type: z.literal("backend-notice"), ...at, kind: z.string(), message: z.string() }),
]);
export type JournalEntry = z.infer<typeof JournalEntrySchema>;

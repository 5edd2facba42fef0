/**
 * gpu-dag: DAG pipelines of LLM jobs — compress with llm-compressor, evaluate with lm-eval,
 * generate with a served model — where every step goes to a queue that targets a GPU partition:
 * this machine's GPUs or a Slurm cluster.
 *
 * @packageDocumentation
 */

export { type CreateRunOptions, createRun } from "./api/create-run.js";
export { type DriveRunOptions, driveRun } from "./api/drive-run.js";
export { type ExecuteOptions, Pipeline } from "./api/pipeline.js";
export { RunHandle } from "./api/run-handle.js";
export { readRun, resultOf, type StoredRun } from "./api/run-status.js";
export { checkKnownKeys, didYouMean, shellJoin, shellQuote, WrappedArguments, wrapArguments } from "./args/index.js";
export { DEFAULT_LEASE_DIR, LEASE_BUSY_EXIT, LEASE_DIR_ENV, resolveLeaseDir } from "./backends/local/gpu-leases.js";
export { detectGpus, GpuPool } from "./backends/local/gpu-pool.js";
export { LocalBackend, type LocalBackendOptions } from "./backends/local/local-backend.js";
export type { BackendNotice, BackendNoticeListener, JobGroup, JobResources, JobSpec, JobState, QueueBackend, SubmittedJob } from "./backends/queue-backend.js";
export { jobNameFor } from "./backends/queue-backend.js";
export { type BatchScriptInput, renderBatchScript } from "./backends/slurm/batch-script.js";
export type { SlurmJobConfig } from "./backends/slurm/resolve-job.js";
export { SlurmBackend, type SlurmBackendOptions, type SlurmBackendStats } from "./backends/slurm/slurm-backend.js";
export { builtinLocalConfig, type ClusterConfig, ClusterConfigSchema, clusterConfigJsonSchema, type QueueConfig } from "./config/cluster-config.js";
export { DocumentLimits } from "./config/document-limits.js";
export { loadClusterConfig, parseClusterConfig } from "./config/load-cluster-config.js";
export { gpusFromQueueName, resolveQueue } from "./config/resolve-queue.js";
export * from "./errors.js";
export { checkManifestPaths } from "./manifest/manifest-paths.js";
export { type OutputsManifest, OutputsManifestSchema, readOutputsManifest } from "./manifest/outputs-manifest.js";
export { MAX_MAP_ELEMENTS, type MapElement, type MapInput, type MapSpec, range } from "./pipeline/map-spec.js";
export { type AddStepOptions, PipelineDefinition, type PipelineOptions } from "./pipeline/pipeline-definition.js";
export type { PipelineSpec, StepPolicy, StepSpec } from "./pipeline/pipeline-spec.js";
export { escapePlaceholders, findPlaceholders, type Placeholder, type PlaceholderRef, parseTemplate } from "./pipeline/placeholders.js";
export { pipelineParam, type StepRef, step } from "./pipeline/refs.js";
export type { PipelinePlan, PlannedStep } from "./pipeline/validate.js";
export { setupPython } from "./python/setup-python.js";
export { type ArtifactRow, listArtifacts } from "./results/artifacts.js";
export { type ComparedRef, type CompareOptions, type Comparison, compareRefs } from "./results/compare.js";
export { type MetricSeries, metricSeries } from "./results/history.js";
export { listModelRows, type ModelFilter, type ModelLineage, type ModelRow, modelLineage } from "./results/lineage.js";
export { METRIC_REDUCTIONS, type MetricReduction } from "./results/metric-values.js";
export {
  type RecoveryOptions,
  type RecoveryReport,
  type RecoveryRow,
  type RecoverySection,
  type RecoverySide,
  type ReproductionStep,
  recoveryReport,
  type SampleStat,
  type SectionAverage,
} from "./results/recovery.js";
export { formatRecovery, RECOVERY_FORMATS, type RecoveryFormat, type RecoveryFormatOptions } from "./results/recovery-format.js";
export { findModel, resolveRun, splitStepRef } from "./results/refs.js";
export { type QueryOptions, queryRuns, type RunQuery, type RunRow } from "./results/run-query.js";
export { runSummaries } from "./results/run-summaries.js";
export { resolveSource, type Source } from "./results/sources.js";
export { type ReplayedAttempt, type ReplayedRun, type ReplayedStep, replayJournal } from "./runner/replay.js";
export type { RunEvent, RunEventListener, RunResult, RunStatus, StepResult, StepStatus } from "./runner/run-types.js";
export type { StepHookContext, StepHooks } from "./runner/step-hooks.js";
export { defaultStore } from "./store/default-store.js";
export { defaultStoreHome, FileStore, type FileStoreOptions } from "./store/file-store.js";
export type { ArtifactRecord, JournalEntry, MetricPoint, ModelRecord, RunRecord, StepOutputs, TaskRecord } from "./store/records.js";
export { type IndexedRunStatus, type IndexedStep, type RunLabels, type RunSummary, summarizeRun } from "./store/run-summary.js";
export type { Store } from "./store/store.js";
export { Study, type StudyOptions, type StudyRunOptions, type StudyView, type TrialRow } from "./study/study.js";
export type { StudyEvent, StudyEventListener } from "./study/study-events.js";
export type { ObjectiveSpec, ParameterSpace, StudySpec, StudySpecInput } from "./study/study-spec.js";
export { Task, type TaskOptions } from "./tasks/custom-task.js";
export { GENERATE_MAIN_KEYS, GenerateTask, type GenerateTaskOptions } from "./tasks/generate-task.js";
export { LLMCompressorTask, type LLMCompressorTaskOptions } from "./tasks/llm-compressor-task.js";
export { LMEvalTask, type LMEvalTaskOptions } from "./tasks/lm-eval-task.js";
export { type AnyTaskDraft, listTasks, loadTask, taskFromRecord } from "./tasks/registry.js";
export { bundledConfigNames, loadTaskConfig } from "./tasks/task-config.js";
export { type CreateTaskOptions, type RenderContext, type RenderedCommand, TaskDraft } from "./tasks/task-draft.js";
export { startUi, type UiOptions, type UiServer } from "./ui/server.js";

/**
 * gpu-dag: DAG pipelines of LLM jobs — compress with llm-compressor, evaluate with lm-eval,
 * generate with a served model — where every step goes to a queue that targets a GPU partition:
 * this machine's GPUs or a Slurm cluster.
 *
 * @packageDocumentation
 */
export { Pipeline, type ExecuteOptions } from "./api/pipeline.js";
export { RunHandle } from "./api/run-handle.js";
export { createRun, type CreateRunOptions } from "./api/create-run.js";
export { driveRun, type DriveRunOptions } from "./api/drive-run.js";
export { readRun, resultOf, type StoredRun } from "./api/run-status.js";
export type { StepHooks, StepHookContext } from "./runner/step-hooks.js";
export { replayJournal, type ReplayedRun, type ReplayedStep, type ReplayedAttempt } from "./runner/replay.js";
export { PipelineDefinition, type PipelineOptions, type AddStepOptions } from "./pipeline/pipeline-definition.js";
export type { PipelineSpec, StepSpec, StepPolicy } from "./pipeline/pipeline-spec.js";
export type { PipelinePlan, PlannedStep } from "./pipeline/validate.js";
export { parseTemplate, findPlaceholders, escapePlaceholders, type Placeholder, type PlaceholderRef } from "./pipeline/placeholders.js";
export { step, pipelineParam, type StepRef } from "./pipeline/refs.js";

export { LLMCompressorTask, type LLMCompressorTaskOptions } from "./tasks/llm-compressor-task.js";
export { LMEvalTask, type LMEvalTaskOptions } from "./tasks/lm-eval-task.js";
export { GenerateTask, type GenerateTaskOptions, GENERATE_MAIN_KEYS } from "./tasks/generate-task.js";
export { Task, type TaskOptions } from "./tasks/custom-task.js";
export { TaskDraft, type RenderContext, type RenderedCommand, type CreateTaskOptions } from "./tasks/task-draft.js";
export { loadTask, listTasks, taskFromRecord, type AnyTaskDraft } from "./tasks/registry.js";
export { bundledConfigNames, loadTaskConfig } from "./tasks/task-config.js";

export { wrapArguments, WrappedArguments, checkKnownKeys, didYouMean, shellQuote, shellJoin } from "./args/index.js";

export type { Store } from "./store/store.js";
export { FileStore, defaultStoreHome, type FileStoreOptions } from "./store/file-store.js";
export { defaultStore } from "./store/default-store.js";
export type { TaskRecord, ModelRecord, ArtifactRecord, RunRecord, JournalEntry, StepOutputs } from "./store/records.js";

export type { QueueBackend, JobSpec, JobState, JobResources, SubmittedJob, BackendNotice, BackendNoticeListener } from "./backends/queue-backend.js";
export { LocalBackend, type LocalBackendOptions } from "./backends/local/local-backend.js";
export { GpuPool, detectGpus } from "./backends/local/gpu-pool.js";
export { DEFAULT_LEASE_DIR, LEASE_BUSY_EXIT, LEASE_DIR_ENV, resolveLeaseDir } from "./backends/local/gpu-leases.js";
export { SlurmBackend, type SlurmBackendOptions, type SlurmBackendStats } from "./backends/slurm/slurm-backend.js";
export type { SlurmJobConfig } from "./backends/slurm/resolve-job.js";
export { renderBatchScript, type BatchScriptInput } from "./backends/slurm/batch-script.js";
export { jobNameFor } from "./backends/queue-backend.js";
export { setupPython } from "./python/setup-python.js";

export { ClusterConfigSchema, clusterConfigJsonSchema, builtinLocalConfig, type ClusterConfig, type QueueConfig } from "./config/cluster-config.js";
export { loadClusterConfig, parseClusterConfig } from "./config/load-cluster-config.js";
export { resolveQueue, gpusFromQueueName } from "./config/resolve-queue.js";
export { DocumentLimits } from "./config/document-limits.js";

export { OutputsManifestSchema, readOutputsManifest, type OutputsManifest } from "./manifest/outputs-manifest.js";
export { checkManifestPaths } from "./manifest/manifest-paths.js";
export type { RunResult, StepResult, StepStatus, RunEvent, RunEventListener, RunStatus } from "./runner/run-types.js";

export * from "./errors.js";

/**
 * Secret-looking `env` values of task drafts and cluster configs are recorded in the store as
 * `"***"` (see `store/redact.ts`). A controller gets the real values back from the process that
 * created the run (held here, in memory only), or else from its own environment under the same
 * names — as with `requiredEnv`, secrets live where the controller runs, never in the store.
 *
 * @module
 */
import { ConfigError } from "../errors.js";
import type { RunRecord, TaskRecord } from "../store/records.js";
import { redactEnv, restoreRedactedEnv } from "../store/redact.js";

interface HeldValues {
  /** Task id → its `env` option as given. */
  taskEnv: Map<string, Record<string, string>>;
  clusterEnv: Record<string, string> | undefined;
}

const held = new Map<string, HeldValues>();

function envOf(value: unknown): Record<string, string> | undefined {
  const env = (value as { env?: unknown } | undefined)?.env;
  return env && typeof env === "object" && !Array.isArray(env) ? (env as Record<string, string>) : undefined;
}

/**
 * The run record as it may be stored: secret-looking `env` values of its drafts and cluster
 * config redacted. The real values are held in this process for {@link restoreRunSecrets}.
 */
export function redactRunRecord(record: RunRecord): RunRecord {
  const taskEnv = new Map<string, Record<string, string>>();
  const tasks: TaskRecord[] = record.tasks.map((task) => {
    const env = envOf(task.options);
    if (!env) return task;
    taskEnv.set(task.id, env);
    return { ...task, options: { ...task.options, env: redactEnv(env) } };
  });
  const clusterEnv = envOf(record.clusterConfig);
  held.set(record.id, { taskEnv, clusterEnv });
  // Inline drafts of the pipeline file are recorded twice: as `tasks` and inside the pipeline.
  const pipeline = record.pipeline as { tasks?: Record<string, { options?: Record<string, unknown> }> } | undefined;
  const inline = pipeline?.tasks
    ? Object.fromEntries(
        Object.entries(pipeline.tasks).map(([key, task]) => {
          const env = envOf(task.options);
          return [key, env ? { ...task, options: { ...task.options, env: redactEnv(env) } } : task];
        }),
      )
    : undefined;
  return {
    ...record,
    ...(inline ? { pipeline: { ...pipeline, tasks: inline } } : {}),
    tasks,
    ...(clusterEnv ? { clusterConfig: { ...(record.clusterConfig as object), env: redactEnv(clusterEnv) } } : {}),
  };
}

/** Forgets what {@link redactRunRecord} held for `runId` (e.g. when recording it failed). */
export function forgetRunSecrets(runId: string): void {
  held.delete(runId);
}

/**
 * The run record with redacted `env` values put back (held values first, then `processEnv`).
 * Throws a {@link ConfigError} naming the variable when neither has it.
 */
export function restoreRunSecrets(record: RunRecord, processEnv: NodeJS.ProcessEnv = process.env): RunRecord {
  const values = held.get(record.id);
  const missing = (where: string) => (name: string) =>
    new ConfigError(
      `run ${record.id}: ${where} env ${name} looks secret, so the store holds it as "***"; set ${name} in the environment of the controller to resume or drive this run from another process (or pass it with secretEnv/requiredEnv)`,
      { field: "env" },
    );
  const tasks = record.tasks.map((task) => {
    const env = envOf(task.options);
    if (!env) return task;
    return { ...task, options: { ...task.options, env: restoreRedactedEnv(env, { original: values?.taskEnv.get(task.id), processEnv }, missing(`task "${task.id}"`)) } };
  });
  const clusterEnv = envOf(record.clusterConfig);
  return {
    ...record,
    tasks,
    ...(clusterEnv ? { clusterConfig: { ...(record.clusterConfig as object), env: restoreRedactedEnv(clusterEnv, { original: values?.clusterEnv, processEnv }, missing("cluster config")) } } : {}),
  };
}

/**
 * Cache decisions for `cacheExecutedStep`: a step's key from what it would run (the rendered
 * attempt, queue, cluster, parents' outputs), and the earlier outputs to reuse for it.
 *
 * @module
 */
import type { CacheEntry } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { RenderedAttempt } from "./attempt-spec.js";
import { cacheKey } from "./cache-key.js";
import type { RunContext, StepState } from "./run-context.js";

/** The step's cache key, or `undefined` when it does not cache. */
export function stepCacheKey(ctx: RunContext, state: StepState, rendered: RenderedAttempt): string | undefined {
  if (!state.planned.spec.cacheExecutedStep) return undefined;
  const { resolved, env } = rendered;
  const all = { ...resolved.task.options } as Record<string, unknown>;
  // A store model id differs per run; the path it resolved to is what the job reads.
  const { modelId: _storeId, ...options } = all;
  return cacheKey({
    taskType: resolved.task.type,
    options: resolved.modelPath ? options : all,
    argv: resolved.command.argv,
    env,
    queue: state.queue.config,
    cluster: ctx.options.environment.clusterName,
    parents: state.planned.parents.map((p) => ({ name: p, outputs: ctx.steps.get(p)!.result.outputs })),
  });
}

/** The earlier success to reuse for `key`, unless the step is forced to run. */
export async function cachedOutputs(store: Store, key: string | undefined, forced: boolean): Promise<CacheEntry | undefined> {
  if (key === undefined || forced) return undefined;
  return (await store.getCacheEntry(key)) ?? undefined;
}

/**
 * Resuming a run from its journal: step states and retry budgets are restored, done steps stay
 * done, and each attempt left open is adopted from the backend — or, planned but never journaled
 * as submitted, submitted again by its deterministic job name with `reuseExisting`, so a job that
 * did reach the backend is adopted.
 *
 * Resume rules (a controller killed at any instant, then restarted):
 * - succeeded / cached steps are not run again (unless forced, with their descendants);
 * - an attempt with a journaled job id is adopted from the backend (never submitted twice);
 * - an attempt planned but not journaled as submitted is submitted again with the same
 *   deterministic job name and `reuseExisting`, so a job that did reach the backend is adopted;
 * - failed, cancelled and skipped steps run again, as new attempts;
 * - a map element that runs again re-opens its map, and what consumed the map's collection runs
 *   again too (a gap filled, never an output appended twice).
 *
 * @module
 */
import type { JobSpec } from "../backends/queue-backend.js";
import { permanentErrorOf } from "../errors.js";
import type { JournalEntry } from "../store/records.js";
import { attemptSpec, renderStepAttempt, secretNamesOf } from "./attempt-spec.js";
import { refusal } from "./backend-failures.js";
import { awaitsExpansion, registerElements } from "./dynamic-map.js";
import { type ReplayedAttempt, replayJournal } from "./replay.js";
import type { RunContext, StepState } from "./run-context.js";
import { isTerminalPhase } from "./step-state.js";

/** Applies the journal; returns adoption work to run once every step's state is set. */
export function restoreRun(ctx: RunContext, entries: readonly JournalEntry[], releaseChildren: (state: StepState) => void): Array<() => Promise<void>> {
  // Maps whose items came from a parent get the elements they were given, before anything else.
  for (const entry of entries) {
    const map = entry.type === "map-expanded" ? ctx.steps.get(entry.step) : undefined;
    if (entry.type === "map-expanded" && map && awaitsExpansion(map)) registerElements(ctx, map, entry.items);
  }
  const replay = replayJournal(entries, [...ctx.steps.keys()]);
  const rerun = new Set<string>();
  const markRerun = (name: string) => {
    if (rerun.has(name)) return;
    rerun.add(name);
    for (const child of ctx.steps.get(name)!.planned.children) markRerun(child);
  };
  for (const name of ctx.forced) markRerun(name);
  // An element that runs again (it failed, or never ran) re-opens its map: the map settles again
  // and what consumed the map's collection runs again with the gap filled (never appended to).
  for (const [name, state] of ctx.steps) {
    const element = state.planned.element;
    const status = replay.steps.get(name)?.status;
    if (element && (rerun.has(name) || (status !== "succeeded" && status !== "cached"))) markRerun(element.map);
  }
  const adoptions: Array<() => Promise<void>> = [];
  for (const [name, state] of ctx.steps) {
    if (state.planned.map) continue; // a map step has no attempts: it settles again from its elements
    const replayed = replay.steps.get(name)!;
    state.attempt = Math.max(0, ...replayed.attempts.map((a) => a.attempt));
    state.result.attempts = state.attempt;
    const last = replayed.attempts.find((a) => a.attempt === state.attempt);
    if (last) state.resolvedOptions = last.parameters;
    // An adopted attempt that succeeds writes its cache entry like a fresh one would.
    if (last?.cacheKey) state.cacheKey = last.cacheKey;
    // After a crash the retry budgets carry on (a crash must not grant a step fresh retries);
    // after a run that finished, resuming is the user asking for another round.
    if (replay.status === "running") {
      for (const attempt of replayed.attempts) {
        if (attempt.status === "lost" || (attempt.status === "failed" && attempt.infrastructure)) state.infraFailures += 1;
        else if (attempt.status === "failed") state.jobFailures += 1;
      }
    }
    const done = (replayed.status === "succeeded" || replayed.status === "cached") && replayed.outputs && !rerun.has(name);
    if (done) {
      ctx.setPhase(state, replayed.status as "succeeded" | "cached", true);
      state.result.outputs = replayed.outputs!;
      if (last?.backendJobId) state.result.jobId = last.backendJobId;
      continue;
    }
    if (last && last.status === undefined && !rerun.has(name)) {
      ctx.setPhase(state, last.startedAt ? "running" : "submitted", true);
      adoptions.push(() => adopt(ctx, state, last));
    }
  }
  // Children of restored successes no longer wait for them.
  for (const state of ctx.steps.values()) {
    if (state.phase === "succeeded" || state.phase === "cached") releaseChildren(state);
  }
  return adoptions;
}

async function adopt(ctx: RunContext, state: StepState, attempt: ReplayedAttempt): Promise<void> {
  try {
    await adoptOrThrow(ctx, state, attempt);
  } catch (error) {
    const permanent = permanentErrorOf(error);
    if (!permanent) throw error;
    ctx.fatal(permanent);
    // Not journaled as ended: the job may still run; the next resume adopts it.
    if (!isTerminalPhase(state.phase)) ctx.finishStep(state, "failed", `not adopted: ${refusal(permanent)}; the run failed (see its reason)`);
  }
}

async function adoptOrThrow(ctx: RunContext, state: StepState, attempt: ReplayedAttempt): Promise<void> {
  const spec = await specFor(ctx, state, attempt);
  state.spec = spec;
  const backend = ctx.options.environment.backend;
  let id = attempt.backendJobId;
  if (id === undefined) {
    // Planned, maybe submitted, never journaled: submit again by the same name; the backend reuses a job it already has.
    const [submitted] = await backend.submit([spec], { reuseExisting: true });
    id = submitted!.backendJobId;
    if (submitted!.jobDir) state.jobDir = submitted!.jobDir;
    await ctx.journal.append({ type: "job-submitted", at: Date.now(), step: state.name, attempt: state.attempt, backendJobId: id });
  }
  state.jobId = id;
  state.result.jobId = id;
  // An adopted job has no SubmittedJob telling where it writes: ask the backend.
  const jobDir = state.jobDir ?? (await backend.jobDirFor?.(spec));
  if (jobDir !== undefined) state.jobDir = jobDir;
  ctx.byJob.set(id, state);
  const job = attempt.backendJobId === undefined ? (await backend.poll([id])).get(id)! : await backend.adopt(spec, id);
  ctx.onJobUpdate(id, job);
}

/**
 * Rebuilds the job spec of a journaled attempt on the attempt path (`attempt-spec.ts`). The
 * argv, job name and queue are the journaled ones; the environment is rendered again from the
 * same inputs (parents' outputs are restored), since a planned but unsubmitted attempt is
 * submitted afresh with it.
 */
async function specFor(ctx: RunContext, state: StepState, attempt: ReplayedAttempt): Promise<JobSpec> {
  const { runId, store, environment } = ctx.options;
  const rendered = await renderStepAttempt({ runId, planned: state.planned, queue: state.queue, attempt: attempt.attempt, scope: ctx.scope(), store, environment, runtime: ctx.options.runtime }).then(
    (r) => r,
    () => undefined,
  );
  const attemptDir = await store.attemptDir(runId, state.name, attempt.attempt);
  state.result.attemptDir = attemptDir;
  const spec = attemptSpec({
    runId,
    planned: state.planned,
    queue: state.queue,
    attempt: attempt.attempt,
    argv: attempt.argv,
    env: rendered?.env ?? environment.env,
    ...(rendered ? { inputFiles: rendered.resolved.inputFiles } : {}),
    secretEnv: environment.secrets(secretNamesOf(attempt.parameters)),
    attemptDir,
    journaled: { jobName: attempt.jobName, queue: attempt.queue },
  });
  ctx.journal.learnSecrets(spec);
  return spec;
}

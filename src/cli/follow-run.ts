/**
 * Following a run from the store until it ends (for `watch` and `wait`): poll the journal, and
 * give up when no controller has held the run for a while.
 *
 * @module
 */
import type { Store } from "../store/store.js";
import { isFinished, loadRunView, type RunView } from "./run-view.js";

/** How a follow ended. */
export type FollowOutcome = { kind: "finished"; view: RunView } | { kind: "timeout"; view: RunView } | { kind: "orphaned"; view: RunView };

/** Options of {@link followRun}. */
export interface FollowOptions {
  pollMs?: number;
  /** Give up at this time (epoch ms). */
  deadline?: number;
  /** Called with every fresh view (to redraw). */
  onView?: (view: RunView) => void;
  /** How long a run may stay without a live controller before the follow gives up (default 10 s). */
  orphanMs?: number;
}

/** Polls run `runId` until it finishes, times out or is left without a controller. */
export async function followRun(store: Store, runId: string, options: FollowOptions = {}): Promise<FollowOutcome> {
  let orphanSince: number | undefined;
  for (;;) {
    const view = await loadRunView(store, runId);
    options.onView?.(view);
    if (isFinished(view.state)) return { kind: "finished", view };
    if (view.state === "interrupted") {
      orphanSince ??= Date.now();
      if (Date.now() - orphanSince > (options.orphanMs ?? 10_000)) return { kind: "orphaned", view };
    } else orphanSince = undefined;
    if (options.deadline !== undefined && Date.now() >= options.deadline) return { kind: "timeout", view };
    const wait = Math.min(options.pollMs ?? 250, options.deadline !== undefined ? Math.max(0, options.deadline - Date.now()) : Infinity);
    await new Promise((r) => setTimeout(r, wait));
  }
}

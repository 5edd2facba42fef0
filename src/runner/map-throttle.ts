/**
 * Caps on jobs running at once, kept by the controller: a map's `maxParallel` (on backends that
 * do not keep groups to a throttle themselves — Slurm arrays do it with `%K`) and a queue's
 * `maxParallel` (cluster config). Ready steps past a cap wait here, in phase `ready`, until a step
 * ends. What counts is derived from phases — steps being prepared, submitted, running or waiting
 * to retry — never kept in a counter.
 *
 * @module
 */
import type { StepState } from "./run-context.js";
import { isActivePhase } from "./step-state.js";

/** See the module comment. */
export class MapThrottle {
  readonly #steps: ReadonlyMap<string, StepState>;
  readonly #backendThrottles: boolean;
  #held: StepState[] = [];

  constructor(steps: ReadonlyMap<string, StepState>, backendThrottles: boolean) {
    this.#steps = steps;
    this.#backendThrottles = backendThrottles;
  }

  /** The part of `ready` that may be prepared now; the rest is held. */
  admit(ready: readonly StepState[]): StepState[] {
    const admitted: StepState[] = [];
    const byMap = new Map<string, number>();
    const byQueue = new Map<string, number>();
    for (const state of ready) {
      const element = state.planned.element;
      const mapCap = this.#backendThrottles ? undefined : element?.throttle;
      const queueCap = state.queue.config.maxParallel;
      const inMap = mapCap === undefined ? 0 : (byMap.get(element!.map) ?? this.#count((s) => s.planned.element?.map === element!.map));
      const inQueue = queueCap === undefined ? 0 : (byQueue.get(state.queue.name) ?? this.#count((s) => s.queue.name === state.queue.name));
      if ((mapCap !== undefined && inMap >= mapCap) || (queueCap !== undefined && inQueue >= queueCap)) {
        this.#held.push(state);
      } else {
        admitted.push(state);
      }
      const took = admitted.at(-1) === state ? 1 : 0;
      if (mapCap !== undefined) byMap.set(element!.map, inMap + took);
      if (queueCap !== undefined) byQueue.set(state.queue.name, inQueue + took);
    }
    return admitted;
  }

  /** Every held step, in the order it became ready (a step ended: admit() decides again). */
  release(): StepState[] {
    const held = this.#held;
    this.#held = [];
    return held;
  }

  /** Steps holding a slot that `matches`: anything between ready and final, except held ones. */
  #count(matches: (state: StepState) => boolean): number {
    let n = 0;
    for (const s of this.#steps.values()) if (s.phase !== "ready" && isActivePhase(s.phase) && matches(s)) n++;
    return n;
  }
}

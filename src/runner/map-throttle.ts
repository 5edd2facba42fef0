/**
 * A map's `maxParallel` on backends that do not keep groups to a throttle themselves (the local
 * backend; Slurm arrays do it with `%K`): ready elements past the cap wait here, in phase `ready`,
 * until an element of their map ends. What counts is derived from the elements' phases — those
 * being prepared, submitted, running or waiting to retry — never from a counter.
 *
 * @module
 */
import type { StepState } from "./run-context.js";
import { isActivePhase } from "./step-state.js";

/** See the module comment. */
export class MapThrottle {
  readonly #steps: ReadonlyMap<string, StepState>;
  readonly #backendThrottles: boolean;
  readonly #held = new Map<string, StepState[]>();

  constructor(steps: ReadonlyMap<string, StepState>, backendThrottles: boolean) {
    this.#steps = steps;
    this.#backendThrottles = backendThrottles;
  }

  /** The part of `ready` that may be prepared now; the rest is held. */
  admit(ready: readonly StepState[]): StepState[] {
    const admitted: StepState[] = [];
    const running = new Map<string, number>();
    for (const state of ready) {
      const element = state.planned.element;
      if (element?.throttle === undefined || this.#backendThrottles) {
        admitted.push(state);
        continue;
      }
      const active = running.get(element.map) ?? this.#active(element.map);
      if (active < element.throttle) {
        admitted.push(state);
        running.set(element.map, active + 1);
      } else {
        const held = this.#held.get(element.map) ?? [];
        held.push(state);
        this.#held.set(element.map, held);
        running.set(element.map, active);
      }
    }
    return admitted;
  }

  /** Held elements of `map`, in the order they became ready (admit() decides again). */
  release(map: string): StepState[] {
    const held = this.#held.get(map);
    if (!held || held.length === 0) return [];
    this.#held.delete(map);
    return held;
  }

  /** Every held element (the run is ending). */
  drain(): StepState[] {
    const all = [...this.#held.values()].flat();
    this.#held.clear();
    return all;
  }

  /** Elements of `map` holding a slot: anything between ready and final, except those held. */
  #active(map: string): number {
    const elements = this.#steps.get(map)?.planned.map?.elements ?? [];
    let n = 0;
    for (const e of elements) {
      const phase = this.#steps.get(e.key)?.phase;
      if (phase !== undefined && phase !== "ready" && isActivePhase(phase)) n++;
    }
    return n;
  }
}

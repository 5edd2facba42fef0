/**
 * The step state machine (`runner/step-state.ts`): every legal transition is walked, every other
 * pair of phases throws `E_STATE_TRANSITION` naming the step and both phases, final phases have
 * no way out, and the derived public status and activity are what the table's comment says.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GpuDagError } from "../../../src/errors.js";
import { canTransition, isActivePhase, isTerminalPhase, STATUS_OF_PHASE, STEP_PHASES, STEP_TRANSITIONS, StateTransitionError, type StepPhase, transition } from "../../../src/runner/step-state.js";

const pairs = STEP_PHASES.flatMap((from) => STEP_PHASES.map((to) => [from, to] as const));
const legal = pairs.filter(([from, to]) => (STEP_TRANSITIONS[from] as readonly StepPhase[]).includes(to));
const illegal = pairs.filter(([from, to]) => !(STEP_TRANSITIONS[from] as readonly StepPhase[]).includes(to));

describe("step state machine", () => {
  it.each(legal)("%s → %s is allowed", (from, to) => {
    const step = { name: "s", phase: from as StepPhase };
    expect(transition(step, to)).toEqual({ previous: STATUS_OF_PHASE[from], status: STATUS_OF_PHASE[to] });
    expect(step.phase).toBe(to);
    expect(canTransition(from, to)).toBe(true);
  });

  it.each(illegal)("%s → %s throws and leaves the phase as it was", (from, to) => {
    const step = { name: "train", phase: from as StepPhase };
    let error: unknown;
    try {
      transition(step, to);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GpuDagError);
    expect(error).toBeInstanceOf(StateTransitionError);
    expect((error as GpuDagError).code).toBe("E_STATE_TRANSITION");
    expect((error as StateTransitionError).step).toBe("train");
    expect((error as StateTransitionError).from).toBe(from);
    expect((error as StateTransitionError).to).toBe(to);
    expect((error as Error).message).toContain(`step "train": illegal state transition ${from} → ${to}`);
    expect(step.phase).toBe(from);
  });

  it("covers every pair exactly once, and every phase is reachable from pending", () => {
    expect(legal.length + illegal.length).toBe(STEP_PHASES.length ** 2);
    const reached = new Set<StepPhase>(["pending"]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [from, to] of legal) if (reached.has(from) && !reached.has(to)) grew = reached.add(to) !== undefined;
    }
    expect([...reached].sort()).toEqual([...STEP_PHASES].sort());
  });

  it("final phases have no way out; active phases are the non-final ones past pending", () => {
    const final = STEP_PHASES.filter(isTerminalPhase);
    expect(final.sort()).toEqual(["cached", "cancelled", "failed", "skipped", "succeeded"]);
    expect(STEP_PHASES.filter(isActivePhase).sort()).toEqual(["backoff", "preparing", "ready", "running", "submitted"]);
    for (const phase of final) expect(STATUS_OF_PHASE[phase]).toBe(phase);
  });

  it("the module comment's table lists every transition of the code", () => {
    const comment = readFileSync(new URL("../../../src/runner/step-state.ts", import.meta.url), "utf8").split("@module")[0]!;
    const rows = comment.split("\n").filter((l) => /^ \* \S/.test(l) || /^ \* {20,}\S/.test(l));
    // Each "from" row of the table, and each target listed under it.
    const table = new Map<string, Set<string>>();
    let from: string | undefined;
    for (const row of rows) {
      const text = row.slice(3);
      const head = /^([a-z]+) +[a-z]+ +(.*)$/.exec(text);
      const body = head ? head[2]! : /^ {20,}(.*)$/.exec(text)?.[1];
      if (head) from = (STEP_PHASES as readonly string[]).includes(head[1]!) ? head[1] : undefined;
      else if (body === undefined) from = undefined; // not a row of the table
      if (!from || body === undefined) continue;
      const targets = body
        .replace(/\(.*$/, "")
        .split(/[ ,]+/)
        .filter((t) => (STEP_PHASES as readonly string[]).includes(t));
      for (const t of targets) (table.get(from) ?? table.set(from, new Set()).get(from)!).add(t);
    }
    for (const phase of STEP_PHASES) {
      expect([...(table.get(phase) ?? [])].sort(), phase).toEqual([...STEP_TRANSITIONS[phase]].sort());
    }
  });
});

/**
 * `gpu-dag watch` in a real terminal (tmux) at 60, 120 and 200 columns, on a run whose failure
 * reason is far longer than a line: while the run goes on and after it ends, the screen holds the
 * header exactly once (a redraw that miscounts wrapped lines repeats it), no line of the view is
 * wider than the terminal (nothing wraps), a cut line ends with "…" after a whole word, and the last frame
 * shows every step in its final state. Durations differ from run to run, so the capture is
 * checked for its structure rather than kept as a snapshot.
 */
import { join } from "node:path";
import stringWidth from "string-width";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { shellQuote } from "../../../src/args/shell-quote.js";
import { BIN, gd, json, ROOT, tempHome, until } from "./cli-helpers.js";
import { ensureTmux, TmuxTerminal } from "./tmux-terminal.js";

const PIPELINE = join(ROOT, "test", "fixtures", "terminal", "long-reasons.yaml");
const STEPS = { slow: "succeeded", fails: "failed", "after-fails": "skipped", "after-slow-with-a-longer-name": "succeeded" } as const;

describe("watch in a real terminal", { timeout: 120_000 }, () => {
  let home: string;
  const terminals: TmuxTerminal[] = [];
  beforeAll(async () => {
    ensureTmux();
    home = await tempHome();
  });
  afterEach(() => {
    for (const t of terminals.splice(0)) t.kill();
  });

  /** The reason of `step` as `status --json` has it, on one line as watch shows it. */
  const fullReason = async (runId: string, step: string) => {
    const doc = json<{ steps: Record<string, { reason?: string }> }>(await gd(home, ["status", runId, "--json"]));
    return (doc.steps[step]?.reason ?? "").replace(/\n/g, " ");
  };

  /** What every screen of watch must satisfy; returns the lines of its last frame. */
  const checkScreen = (screen: string, columns: number, runId: string, reason: string): string[] => {
    const all = screen.split("\n").map((l) => l.trimEnd());
    // The live view; what watch prints once it is over (the outcome, hints) is ordinary output.
    const end = all.findIndex((l) => l.startsWith(`run ${runId} failed in`));
    const lines = end < 0 ? all : all.slice(0, end);
    for (const line of lines) expect(stringWidth(line), `wider than ${columns} columns (it wrapped): ${JSON.stringify(line)}`).toBeLessThanOrEqual(columns);
    const headers = lines.filter((l) => l.startsWith(`run ${runId}  terminal/long-reasons`));
    expect(headers, screen).toHaveLength(1);
    for (const line of lines.filter((l) => l.endsWith("…"))) {
      expect(line, "cut right after a space").not.toMatch(/\s…$/);
      const at = line.indexOf("exited with code");
      if (at < 0) continue;
      const shown = line.slice(at, -1);
      expect(reason.startsWith(shown), `${JSON.stringify(shown)} is the start of the reason`).toBe(true);
      expect(reason[shown.length], `cut at a word boundary: ${JSON.stringify(line)}`).toBe(" ");
    }
    const failsLine = lines.find((l) => /^\s+fails\s+failed/.test(l));
    expect(failsLine, screen).toBeDefined();
    expect(failsLine!.endsWith("…"), `the long reason is cut to the width: ${failsLine}`).toBe(true);
    return lines.slice(lines.indexOf(headers[0]!));
  };

  for (const columns of [60, 120, 200]) {
    it(`redraws in place at ${columns} columns, while the run goes on and after it ends`, async () => {
      const started = await gd(home, ["run", PIPELINE, "--remote", "--param", "slow=8"]);
      expect(started.code, started.stderr).toBe(0);
      const runId = started.stdout.trim();
      const terminal = new TmuxTerminal(columns, 30);
      terminals.push(terminal);
      terminal.start(`env GPU_DAG_CLI_SOURCE=1 ${shellQuote(process.execPath)} ${shellQuote(BIN)} --home ${shellQuote(home)} watch ${runId} --interval 100`);

      const mid = await until(
        async () => {
          const screen = terminal.capture();
          return /^\s+fails\s+failed/m.test(screen) && /^\s+slow\s+running/m.test(screen) ? screen : undefined;
        },
        60_000,
        "watch showing fails failed while slow runs",
      );
      const reason = await fullReason(runId, "fails");
      expect(reason).toMatch(/^exited with code 1 .*stopped here$/);
      checkScreen(mid, columns, runId, reason);

      const end = await until(
        async () => {
          const screen = terminal.capture();
          return screen.includes(`run ${runId} failed in`) ? screen : undefined;
        },
        60_000,
        "watch to end",
      );
      const frame = checkScreen(end, columns, runId, reason);
      for (const [step, state] of Object.entries(STEPS)) {
        expect(
          frame.some((l) => new RegExp(`^\\s+${step}\\s+${state}\\b`).test(l)),
          `final frame shows ${step} ${state}:\n${end}`,
        ).toBe(true);
      }
    });
  }
});

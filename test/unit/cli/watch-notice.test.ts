import { describe, expect, it } from "vitest";
import { summaryLine } from "../../../src/cli/commands/watch.js";
import type { RunView } from "../../../src/cli/run-view.js";

const view = (state: RunView["state"], notice?: { at: number; kind: string; message: string }): RunView =>
  ({
    state,
    counts: { total: 2, done: 1, running: 1, queued: 0, pending: 0, failed: 0, skipped: 0, cancelled: 0 },
    durationMs: 5000,
    stored: { replay: { ...(notice ? { notice } : {}) } },
  }) as unknown as RunView;

describe("watch shows an ongoing cluster outage", () => {
  const lost = { at: 1, kind: "connection-lost", message: "connection to me@login:22 lost, retrying (attempt 3, next in 1.6 s): ECONNREFUSED" };
  it("while the latest notice is a lost connection and the run goes on", () => {
    expect(summaryLine(view("running", lost))).toContain("[connection to me@login:22 lost, retrying (attempt 3, next in 1.6 s): ECONNREFUSED]");
  });
  it("not once it is restored, nor after the run ended", () => {
    expect(summaryLine(view("running", { at: 2, kind: "connection-restored", message: "connection to me@login:22 restored after 9.0 s (3 failed attempts)" }))).not.toContain("connection");
    expect(summaryLine(view("succeeded", lost))).not.toContain("lost");
    expect(summaryLine(view("running"))).not.toContain("connection");
  });
});

import { describe, expect, it } from "vitest";
import { baseState, parseExitSignal, type SlurmJobInfo, toJobState } from "../../../../src/backends/slurm/slurm-state.js";

const info = (state: string, over: Partial<SlurmJobInfo> = {}): SlurmJobInfo => ({
  jobId: "42",
  state,
  reason: "None",
  exitCode: 0,
  signal: 0,
  nodes: "",
  name: "n",
  ...over,
});

describe("toJobState", () => {
  it.each(["PENDING", "CONFIGURING", "REQUEUED", "SUSPENDED"])("%s → queued", (s) => {
    expect(toJobState(info(s)).status).toBe("queued");
  });

  it("keeps a pending reason", () => {
    expect(toJobState(info("PENDING", { reason: "Resources" }))).toEqual({ status: "queued", reason: "Resources" });
  });

  it.each(["RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT"])("%s → running", (s) => {
    expect(toJobState(info(s, { nodes: "vm", startedAt: 5 }))).toEqual({ status: "running", node: "vm", startedAt: 5 });
  });

  it("TIMEOUT → failed with the time-limit reason, naming the job's limit", () => {
    const state = toJobState(info("TIMEOUT", { exitCode: 0, signal: 15 }), { timeLimitSeconds: 30 });
    expect(state).toMatchObject({ status: "failed", infrastructure: false });
    expect(state.status === "failed" && state.reason).toMatch(/^time limit of 30s exceeded \(Slurm job 42 TIMEOUT/);
  });

  it("a time-limit exit-code marker → failed with the time-limit reason, whatever Slurm's state", () => {
    for (const s of ["FAILED", "COMPLETED"]) {
      const state = toJobState(info(s, { exitCode: 124 }), { timeLimitSeconds: 3, timedOut: true });
      expect(state).toMatchObject({ status: "failed", exitCode: 124, infrastructure: false });
      expect(state.status === "failed" && state.reason).toMatch(/^time limit of 3s exceeded/);
    }
  });

  it("COMPLETED → succeeded", () => {
    expect(toJobState(info("COMPLETED"))).toEqual({ status: "succeeded", exitCode: 0 });
  });

  it.each(["FAILED", "OUT_OF_MEMORY", "TIMEOUT", "DEADLINE"])("%s → failed, the job's own failure", (s) => {
    const state = toJobState(info(s, { exitCode: 3 }));
    expect(state).toMatchObject({ status: "failed", exitCode: 3, infrastructure: false });
    expect(state.status === "failed" && state.reason).toContain(`Slurm job 42 ${s}`);
  });

  it.each(["NODE_FAIL", "PREEMPTED", "BOOT_FAIL"])("%s → failed, infrastructure", (s) => {
    expect(toJobState(info(s, { exitCode: null, signal: null }))).toMatchObject({ status: "failed", infrastructure: true });
  });

  it("CANCELLED (by uid) → cancelled", () => {
    expect(toJobState(info("CANCELLED by 1001", { signal: 15 }))).toMatchObject({ status: "cancelled" });
  });

  it("a signal is named", () => {
    expect(toJobState(info("FAILED", { exitCode: 0, signal: 9 }))).toMatchObject({ status: "failed", signal: "SIGKILL" });
  });

  it("PENDING with DependencyNeverSatisfied → failed", () => {
    const state = toJobState(info("PENDING", { reason: "DependencyNeverSatisfied" }));
    expect(state).toMatchObject({ status: "failed", infrastructure: false, exitCode: null });
    expect(state.status === "failed" && state.reason).toContain("DependencyNeverSatisfied");
  });

  it("unknown states fail rather than hang", () => {
    expect(toJobState(info("SOMETHING_NEW")).status).toBe("failed");
  });
});

describe("helpers", () => {
  it("baseState strips suffixes", () => {
    expect(baseState("CANCELLED by 0")).toBe("CANCELLED");
    expect(baseState("FAILED+")).toBe("FAILED");
  });
  it("parseExitSignal", () => {
    expect(parseExitSignal("3:0")).toEqual({ exitCode: 3, signal: 0 });
    expect(parseExitSignal("0:15")).toEqual({ exitCode: 0, signal: 15 });
    expect(parseExitSignal("")).toEqual({ exitCode: null, signal: null });
  });
});

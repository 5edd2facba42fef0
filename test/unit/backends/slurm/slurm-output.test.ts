import { describe, expect, it } from "vitest";
import { FIELD_SEP, parseArrayLimits, parseSacct, parseSqueue, sacctCommand, splitFields, squeueCommand } from "../../../../src/backends/slurm/slurm-output.js";

const S = FIELD_SEP;
const ODD_NAMES = ["gd-run1-step-a1", "a name with spaces", "pipes|and|more|pipes", `quotes 'single' "double"`, "ünïcødé ✓ 日本", `even the ${S} separator ${S} itself`, ""];

describe("parseSqueue", () => {
  it("reads every field and keeps odd job names whole (the name is the last field)", () => {
    const text = ODD_NAMES.map((name, i) => [`${100 + i}`, "RUNNING", "768", "None", "vm", "2024-05-01T12:00:00", name].join(S)).join("\n") + "\n";
    const jobs = parseSqueue(text);
    expect(jobs.map((j) => j.name)).toEqual(ODD_NAMES);
    expect(jobs[0]).toMatchObject({ jobId: "100", state: "RUNNING", exitCode: 3, signal: 0, reason: "None", nodes: "vm" });
    expect(jobs[0]?.startedAt).toBe(new Date("2024-05-01T12:00:00").getTime());
  });

  it("splits a raw wait status into exit code and signal", () => {
    const [job] = parseSqueue(["7", "CANCELLED", "15", "None", "vm", "N/A", "x"].join(S));
    expect(job).toMatchObject({ exitCode: 0, signal: 15 });
    expect(job?.startedAt).toBeUndefined();
  });

  it("skips blank, short and non-job lines (stderr noise, headers)", () => {
    const text = ["", "slurm_load_jobs error: Invalid job id specified", `JOBID${S}STATE`, ["8", "PENDING", "0", "Resources", "", "N/A", "n"].join(S)].join("\n");
    expect(parseSqueue(text).map((j) => j.jobId)).toEqual(["8"]);
  });

  it("reads array elements' ids (`123_4`: JobArrayID) and asks for one row per element (-r)", () => {
    const text = [
      ["12_0", "RUNNING", "0", "None", "vm", "N/A", "arr"],
      ["12_7", "PENDING", "0", "JobArrayTaskLimit", "", "N/A", "arr"],
      ["12_[8-63%8]", "PENDING", "0", "None", "", "N/A", "arr"],
    ]
      .map((f) => f.join(S))
      .join("\n");
    expect(parseSqueue(text).map((j) => [j.jobId, j.reason])).toEqual([
      ["12_0", "None"],
      ["12_7", "JobArrayTaskLimit"],
    ]);
    expect(squeueCommand(["12_0"])).toMatch(/^squeue -h -r -t all -j 12_0 -O "JobArrayID:\$d,/);
  });

  it("builds a command with numeric ids only", () => {
    expect(squeueCommand(["1", "22", "3_4"])).toContain("-j 1,22,3_4");
    expect(() => squeueCommand(["1; rm -rf ~"])).toThrow(/not a Slurm job id/);
  });
});

describe("parseSacct", () => {
  it("parses EXIT:SIGNAL and odd names", () => {
    const text = ODD_NAMES.map((name, i) => [`${200 + i}`, "FAILED", "3:0", "NonZeroExitCode", "vm", "2024-05-01T12:00:00", name].join(S)).join("\n");
    const jobs = parseSacct(text);
    expect(jobs.map((j) => j.name)).toEqual(ODD_NAMES);
    expect(jobs[0]).toMatchObject({ jobId: "200", state: "FAILED", exitCode: 3, signal: 0 });
  });

  it("reads `CANCELLED by 1001` and unknown exit codes", () => {
    const [job] = parseSacct(["9", "CANCELLED by 1001", "", "None", "", "Unknown", "x"].join(S));
    expect(job).toMatchObject({ state: "CANCELLED by 1001", exitCode: null, signal: null });
  });

  it("builds a command with the delimiter variable", () => {
    expect(sacctCommand(["5", "6"])).toMatch(/^sacct -n -X -P --delimiter="\$d" -o .* -j 5,6 2>\/dev\/null$/);
  });

  it("asks for JobID (`123_4` for an array element, not its raw id) and reads element ids", () => {
    expect(sacctCommand(["5_3", "6"])).toContain("-o JobID,State,");
    expect(sacctCommand(["5_3", "6"])).toContain("-j 5_3,6");
    const jobs = parseSacct(
      [
        ["5_3", "COMPLETED", "0:0", "None", "vm", "N/A", "arr"],
        ["5_[4-9]", "PENDING", "0:0", "None", "", "N/A", "arr"],
      ]
        .map((f) => f.join(S))
        .join("\n"),
    );
    expect(jobs.map((j) => [j.jobId, j.state, j.exitCode])).toEqual([["5_3", "COMPLETED", 0]]);
  });
});

describe("splitFields", () => {
  it("returns undefined for too few fields and keeps separators in the last", () => {
    expect(splitFields(`a${S}b`, 3)).toBeUndefined();
    expect(splitFields(`a${S}b${S}c${S}d`, 3)).toEqual(["a", "b", `c${S}d`]);
    expect(splitFields(`a${S}b\r`, 2)).toEqual(["a", "b"]);
  });
});

describe("parseArrayLimits", () => {
  it("reads MaxArraySize, lowered by SchedulerParameters' max_array_tasks; Slurm's default 1001 when absent", () => {
    expect(parseArrayLimits("AccountingStorageType   = accounting_storage/none\nMaxArraySize            = 1001\nMaxJobCount = 10000\n")).toBe(1001);
    expect(parseArrayLimits("MaxArraySize = 40001\nSchedulerParameters     = batch_sched_delay=0,max_array_tasks=500\n")).toBe(500);
    expect(parseArrayLimits("MaxArraySize = 0\n")).toBe(0);
    expect(parseArrayLimits("scontrol: error: permission denied\n")).toBe(1001);
  });
});

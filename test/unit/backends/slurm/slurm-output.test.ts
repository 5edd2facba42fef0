import { describe, expect, it } from "vitest";
import { FIELD_SEP, parseSacct, parseSqueue, sacctCommand, splitFields, squeueCommand } from "../../../../src/backends/slurm/slurm-output.js";

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
});

describe("splitFields", () => {
  it("returns undefined for too few fields and keeps separators in the last", () => {
    expect(splitFields(`a${S}b`, 3)).toBeUndefined();
    expect(splitFields(`a${S}b${S}c${S}d`, 3)).toEqual(["a", "b", `c${S}d`]);
    expect(splitFields(`a${S}b\r`, 2)).toEqual(["a", "b"]);
  });
});

import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelProgram, parsePollOutput, pollProgram } from "../../../../src/backends/slurm/remote-scripts.js";
import { FIELD_SEP } from "../../../../src/backends/slurm/slurm-output.js";

// The programs run in real bash against tiny fake `squeue`/`scancel` scripts on PATH
// (submitting: submit-program.test.ts).
let dir: string;
let bin: string;
const run = (program: string): string => execFileSync("bash", ["-s"], { input: program, encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE: dir } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gd-remote-"));
  bin = join(dir, "bin");
  await mkdir(bin);
  const fakes: Record<string, string> = {
    squeue: `#!/bin/bash\necho "$@" >> "$FAKE/squeue-args"\nd=$(printf '\\037')\nprintf '7%sgd-known-a1\\n' "$d"\nprintf '5%sRUNNING%s0%sNone%svm%sN/A%sx\\n' "$d" "$d" "$d" "$d" "$d" "$d"`,
    scancel: `#!/bin/bash\necho "$@" >> "$FAKE/scancel-args"`,
  };
  for (const [name, text] of Object.entries(fakes)) {
    await writeFile(join(bin, name), text);
    await chmod(join(bin, name), 0o755);
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("pollProgram", () => {
  it("runs one squeue for all ids and reads markers with builtins", async () => {
    await mkdir(join(dir, "m1"), { recursive: true });
    await writeFile(join(dir, "m1", "exit_code"), "3\n");
    const output = run(
      pollProgram(
        ["5", "6"],
        new Map([
          ["5", join(dir, "m1")],
          ["6", join(dir, "none")],
        ]),
      ),
    );
    const { squeue, markers } = parsePollOutput(output);
    expect(squeue).toContain(`5${FIELD_SEP}RUNNING`);
    expect([...markers]).toEqual([["5", 3]]);
    expect(await readFile(join(dir, "squeue-args"), "utf8")).toContain("-j 5,6");
  });
});

describe("cancelProgram", () => {
  it("scancels all ids in one call and removes secret files", async () => {
    await mkdir(join(dir, "c1"), { recursive: true });
    await writeFile(join(dir, "c1", ".secret.env"), "X=1\n");
    run(cancelProgram(["11", "12"], [join(dir, "c1")]));
    expect(await readFile(join(dir, "scancel-args"), "utf8")).toBe("11 12\n");
    await expect(stat(join(dir, "c1", ".secret.env"))).rejects.toThrow(/ENOENT/);
  });
});

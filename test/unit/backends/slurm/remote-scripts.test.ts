import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelProgram, parsePollOutput, parseSubmitOutput, pollProgram, submitProgram } from "../../../../src/backends/slurm/remote-scripts.js";
import { FIELD_SEP } from "../../../../src/backends/slurm/slurm-output.js";

// The programs run in real bash against tiny fake `sbatch`/`squeue`/`scancel` scripts on PATH.
let dir: string;
let bin: string;
const run = (program: string): string => execFileSync("bash", ["-s"], { input: program, encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE: dir } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gd-remote-"));
  bin = join(dir, "bin");
  await mkdir(bin);
  const fakes: Record<string, string> = {
    // sbatch: fails for scripts under a dir containing "bad", else prints the next id (and a cluster suffix).
    sbatch: `#!/bin/bash\ncase "$2" in *bad*) echo "sbatch: error: Batch job submission failed:\nInvalid partition" >&2; exit 1;; esac\nn=$(( $(cat "$FAKE/n" 2>/dev/null || echo 100) + 1 )); echo $n > "$FAKE/n"; echo "$2" >> "$FAKE/submitted"; echo "$n;cluster"`,
    squeue: `#!/bin/bash\necho "$@" >> "$FAKE/squeue-args"\nd=$(printf '\\037')\nprintf '7%sgd-known-a1\\n' "$d"\nprintf '5%sRUNNING%s0%sNone%svm%sN/A%sx\\n' "$d" "$d" "$d" "$d" "$d" "$d"`,
    scancel: `#!/bin/bash\necho "$@" >> "$FAKE/scancel-args"`,
  };
  for (const [name, text] of Object.entries(fakes)) {
    await writeFile(join(bin, name), text);
    await chmod(join(bin, name), 0o755);
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("submitProgram", () => {
  it("writes scripts and 0600 secret files, submits each, prints index and id", async () => {
    const items = [0, 1].map((i) => ({
      jobName: `gd-r-s${i}-a1`,
      remoteAttemptDir: join(dir, "jobs", `s ${i}`),
      script: `#!/bin/bash\necho 'job ${i}' "$HOME"\n`,
      ...(i === 0 ? { secretEnv: "TOKEN='x'\n" } : {}),
    }));
    const out = parseSubmitOutput(run(submitProgram(items)));
    expect(out.errors.size).toBe(0);
    expect([...out.ok.entries()]).toEqual([
      [0, "101"],
      [1, "102"],
    ]);
    expect(await readFile(join(dir, "jobs", "s 1", "job.sbatch"), "utf8")).toBe(items[1]!.script);
    expect((await stat(join(dir, "jobs", "s 0", ".secret.env"))).mode & 0o777).toBe(0o600);
  });

  it("stops at the first failure and reports it", () => {
    const items = ["ok", "bad", "never"].map((name) => ({ jobName: name, remoteAttemptDir: join(dir, name), script: "#!/bin/bash\n" }));
    const out = parseSubmitOutput(run(submitProgram(items)));
    expect([...out.ok.keys()]).toEqual([0]);
    expect(out.errors.get(1)).toContain("Invalid partition");
    expect(out.errors.has(2)).toBe(false);
  });

  it("with reuseExisting, a job Slurm already knows by name is not submitted twice", async () => {
    const items = ["gd-known-a1", "gd-new-a1"].map((name) => ({ jobName: name, remoteAttemptDir: join(dir, "re", name), script: "#!/bin/bash\n" }));
    const out = parseSubmitOutput(run(submitProgram(items, { reuseExisting: true })));
    expect(out.ok.get(0)).toBe("7");
    expect(out.ok.get(1)).toMatch(/^\d+$/);
    expect(await readFile(join(dir, "submitted"), "utf8")).not.toContain("gd-known-a1");
  });
});

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

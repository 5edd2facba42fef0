import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FIELD_SEP } from "../../../../src/backends/slurm/slurm-output.js";
import type { ArraySubmitItem, IndexedItem, SubmitBatch } from "../../../../src/backends/slurm/submit-batch.js";
import { parseSubmitOutput, submitProgram } from "../../../../src/backends/slurm/submit-program.js";

// The program runs in real bash against tiny fake `sbatch`/`squeue` scripts on PATH.
let dir: string;
let bin: string;
const run = (program: string): string => execFileSync("bash", ["-s"], { input: program, encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE: dir } });
const sbatchCalls = async (): Promise<string[]> => (await readFile(join(dir, "sbatch-args"), "utf8").catch(() => "")).split("\n").filter(Boolean);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gd-submit-"));
  bin = join(dir, "bin");
  await mkdir(bin);
  const fakes: Record<string, string> = {
    // sbatch: fails for scripts under a dir containing "bad", warns on stderr for "warn", else
    // prints the next id (and a cluster suffix). Logs its arguments, one call a line.
    sbatch: `#!/bin/bash\nscript=\${@: -1}\necho "$*" >> "$FAKE/sbatch-args"\ncase "$script" in *bad*) echo "sbatch: error: Batch job submission failed:\nInvalid partition" >&2; exit 1;; *warn*) echo "sbatch: warning: memory not set" >&2;; esac\nn=$(( $(cat "$FAKE/n" 2>/dev/null || echo 100) + 1 )); echo $n > "$FAKE/n"; echo "$script" >> "$FAKE/submitted"; echo "$n;cluster"`,
    // squeue: the reuse lookup's listing (%i %F %K %Z %j) from $FAKE/squeue-rows.
    squeue: `#!/bin/bash\ncat "$FAKE/squeue-rows" 2>/dev/null; true`,
  };
  for (const [name, text] of Object.entries(fakes)) {
    await writeFile(join(bin, name), text);
    await chmod(join(bin, name), 0o755);
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));
beforeEach(async () => {
  await rm(join(dir, "sbatch-args"), { force: true });
  await rm(join(dir, "squeue-rows"), { force: true });
});

/** Squeue rows of the reuse lookup: id, array id, task (or N/A), work dir, name. */
const jobsFile = (rows: string[][]) => writeFile(join(dir, "squeue-rows"), rows.map((r) => `${r.join(FIELD_SEP)}\n`).join(""));

function element(root: string, i: number, specIndex: number, over: Partial<IndexedItem> = {}): IndexedItem {
  return { specIndex, jobName: `gd-r-gen.${i}-a1`, remoteAttemptDir: join(root, `gen.${i}`, "a1"), script: `#!/bin/bash\necho 'element ${i}'\n`, ...over };
}

function array(root: string, name: string, elements: IndexedItem[], over: Partial<ArraySubmitItem> = {}): ArraySubmitItem {
  return { jobName: name, arrayDir: join(root, ".arrays", name), script: `#!/bin/bash\n#SBATCH --array=0-${elements.length - 1}\n`, elements, ...over };
}

describe("submitProgram: single jobs", () => {
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
    expect(out.sbatchCalls).toBe(2);
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
    await jobsFile([["7", "7", "N/A", "/somewhere", "gd-known-a1"]]);
    const items = ["gd-known-a1", "gd-new-a1"].map((name) => ({ jobName: name, remoteAttemptDir: join(dir, "re", name), script: "#!/bin/bash\n" }));
    const out = parseSubmitOutput(run(submitProgram(items, { reuseExisting: true })));
    expect(out.ok.get(0)).toBe("7");
    expect(out.reused).toEqual(new Set([0]));
    expect(out.ok.get(1)).toMatch(/^\d+$/);
    expect(out.sbatchCalls).toBe(1);
    expect(await readFile(join(dir, "submitted"), "utf8")).not.toContain("gd-known-a1");
  });

  it("takes the id from sbatch's last line when it warns first", () => {
    const out = parseSubmitOutput(run(submitProgram([{ jobName: "w", remoteAttemptDir: join(dir, "warn"), script: "#!/bin/bash\n" }])));
    expect(out.ok.get(0)).toMatch(/^\d+$/);
  });

  it("writes input files under the attempt directory, creating their folders", async () => {
    const root = join(dir, "inputs");
    const item = { jobName: "in", remoteAttemptDir: join(root, "a1"), script: "#!/bin/bash\n", inputFiles: [{ path: "deep/er/elements.json", content: '[{"i":"it\'s $x"}]' }] };
    parseSubmitOutput(run(submitProgram([item])));
    expect(await readFile(join(root, "a1", "deep/er/elements.json"), "utf8")).toBe('[{"i":"it\'s $x"}]');
  });
});

describe("submitProgram: arrays", () => {
  it("one sbatch for an array: every element's own script, secret (0600) and input files, the element list and the array script", async () => {
    const root = join(dir, "arr1");
    const elements = [0, 1, 2].map((i) => element(root, i, i + 1, i === 1 ? { secretEnv: "TOKEN='s1'\n", inputFiles: [{ path: "in/x.txt", content: `x${i}` }] } : {}));
    const single: IndexedItem = { specIndex: 0, jobName: "gd-r-solo-a1", remoteAttemptDir: join(root, "solo", "a1"), script: "#!/bin/bash\n" };
    const batch: SubmitBatch = { singles: [single], arrays: [array(root, "gd-r-gen.0-a1-arr3-abc", elements)] };
    // A stale marker of an earlier try of the same attempt must go.
    await mkdir(elements[2]!.remoteAttemptDir, { recursive: true });
    await writeFile(join(elements[2]!.remoteAttemptDir, "exit_code"), "1\n");
    const out = parseSubmitOutput(run(submitProgram(batch)));
    expect(out.errors.size).toBe(0);
    expect(out.sbatchCalls).toBe(2);
    expect(out.arrayCalls).toBe(1);
    const arrayId = out.ok.get(1)!.split("_")[0];
    expect([1, 2, 3].map((i) => out.ok.get(i))).toEqual([`${arrayId}_0`, `${arrayId}_1`, `${arrayId}_2`]);
    const calls = await sbatchCalls();
    expect(calls).toHaveLength(2);
    expect(calls[1]).toBe(`--parsable ${join(root, ".arrays", "gd-r-gen.0-a1-arr3-abc", "job.sbatch")}`);
    for (const [i, e] of elements.entries()) expect(await readFile(join(e.remoteAttemptDir, "job.sbatch"), "utf8")).toBe(`#!/bin/bash\necho 'element ${i}'\n`);
    expect((await stat(join(elements[1]!.remoteAttemptDir, ".secret.env"))).mode & 0o777).toBe(0o600);
    await expect(stat(join(elements[0]!.remoteAttemptDir, ".secret.env"))).rejects.toThrow(/ENOENT/);
    await expect(stat(join(elements[2]!.remoteAttemptDir, "exit_code"))).rejects.toThrow(/ENOENT/);
    expect(await readFile(join(elements[1]!.remoteAttemptDir, "in/x.txt"), "utf8")).toBe("x1");
    const list = await readFile(join(root, ".arrays", "gd-r-gen.0-a1-arr3-abc", "elements"), "utf8");
    expect(list).toBe([0, 1, 2].map((i) => `${i}${FIELD_SEP}gd-r-gen.${i}-a1\n`).join(""));
  });

  it("a refused array refuses each of its elements and stops there", async () => {
    const root = join(dir, "bad-arr");
    const batch: SubmitBatch = { singles: [], arrays: [array(root, "a", [element(root, 0, 0), element(root, 1, 1)]), array(root, "b", [element(root, 2, 2), element(root, 3, 3)])] };
    const out = parseSubmitOutput(run(submitProgram(batch)));
    expect(out.ok.size).toBe(0);
    expect([...out.errors.keys()]).toEqual([0, 1]);
    expect(out.errors.get(1)).toContain("Invalid partition");
  });

  it("a chunk with no throttle slot of its own waits for the chunk before it (afterany)", async () => {
    const root = join(dir, "chain");
    const batch: SubmitBatch = {
      singles: [],
      arrays: [array(root, "c0", [element(root, 0, 0), element(root, 1, 1)], { throttle: 1 }), array(root, "c1", [element(root, 2, 2), element(root, 3, 3)], { throttle: 1, after: 0 })],
    };
    const out = parseSubmitOutput(run(submitProgram(batch)));
    const first = out.ok.get(0)!.split("_")[0];
    expect((await sbatchCalls())[1]).toBe(`--parsable --dependency=afterany:${first} ${join(root, ".arrays", "c1", "job.sbatch")}`);
  });

  it("reuseExisting: elements found in a live array (through its element list) are returned, the rest submitted with their own indices, found ones' files untouched", async () => {
    const root = join(dir, "reuse");
    // An earlier controller's array 55 carried gen[0] and gen[2] as its tasks 0 and 1.
    const oldDir = join(root, ".arrays", "old");
    await mkdir(oldDir, { recursive: true });
    await writeFile(join(oldDir, "elements"), `0${FIELD_SEP}gd-r-gen.0-a1\n1${FIELD_SEP}gd-r-gen.2-a1\n`);
    await jobsFile([
      ["55_0", "55", "0", oldDir, "old"],
      ["55_1", "55", "1", oldDir, "old"],
      ["56_0", "56", "0", "/not/ours", "other"],
    ]);
    const elements = [0, 1, 2, 3].map((i) => element(root, i, i));
    await mkdir(elements[0]!.remoteAttemptDir, { recursive: true });
    await writeFile(join(elements[0]!.remoteAttemptDir, "exit_code"), "0\n");
    await writeFile(join(elements[0]!.remoteAttemptDir, "job.sbatch"), "the old one");
    const out = parseSubmitOutput(run(submitProgram({ singles: [], arrays: [array(root, "new", elements, { throttle: 2 })] }, { reuseExisting: true })));
    expect(out.ok.get(0)).toBe("55_0");
    expect(out.ok.get(2)).toBe("55_1");
    expect(out.reused).toEqual(new Set([0, 2]));
    const id = out.ok.get(1)!.split("_")[0];
    expect(out.ok.get(1)).toBe(`${id}_1`);
    expect(out.ok.get(3)).toBe(`${id}_3`);
    expect(out.sbatchCalls).toBe(1);
    expect((await sbatchCalls())[0]).toBe(`--parsable --array=1,3%2 ${join(root, ".arrays", "new", "job.sbatch")}`);
    expect(await readFile(join(elements[0]!.remoteAttemptDir, "exit_code"), "utf8")).toBe("0\n");
    expect(await readFile(join(elements[0]!.remoteAttemptDir, "job.sbatch"), "utf8")).toBe("the old one");
    await expect(stat(join(elements[2]!.remoteAttemptDir, "job.sbatch"))).rejects.toThrow(/ENOENT/);
    expect(await readFile(join(elements[3]!.remoteAttemptDir, "job.sbatch"), "utf8")).toContain("element 3");
  });

  it("reuseExisting: an array found whole is not submitted at all", async () => {
    const root = join(dir, "whole");
    const arrDir = join(root, ".arrays", "w");
    await mkdir(arrDir, { recursive: true });
    await writeFile(join(arrDir, "elements"), `0${FIELD_SEP}gd-r-gen.0-a1\n1${FIELD_SEP}gd-r-gen.1-a1\n`);
    await jobsFile([
      ["60_0", "60", "0", arrDir, "w"],
      ["60_1", "60", "1", arrDir, "w"],
    ]);
    const out = parseSubmitOutput(run(submitProgram({ singles: [], arrays: [array(root, "w", [element(root, 0, 0), element(root, 1, 1)])] }, { reuseExisting: true })));
    expect([...out.ok]).toEqual([
      [0, "60_0"],
      [1, "60_1"],
    ]);
    expect(out.sbatchCalls).toBe(0);
    expect(await sbatchCalls()).toEqual([]);
  });
});

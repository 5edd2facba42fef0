/**
 * The user's code travels to the real cluster: a job imports a module from the shipped git
 * repository (HEAD plus the uncommitted diff), starts in the run's copy of it, and knows the
 * commit; the run record holds the commit and the dirty flag; an unchanged repository is uploaded
 * once for any number of runs (counted), a changed one again; untracked files are reported and
 * left out, or refuse the run before anything is recorded.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlurmBackend } from "../../src/backends/slurm/slurm-backend.js";
import { type SlurmClusterConfig, SlurmClusterConfigSchema } from "../../src/config/cluster-config.js";
import { ConfigError } from "../../src/errors.js";
import { createRun, driveRun, FileStore, Pipeline, type RunResult, Task } from "../../src/index.js";
import { pythonRuntimeDir } from "../../src/package-root.js";
import { pipelineClusterConfig, type SlurmTestEnv, slurmTestEnv } from "./slurm-test-env.js";

const git = (repo: string, ...args: string[]) => execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { encoding: "utf8" }).trim();

describe("shipping the user's code", () => {
  let env: SlurmTestEnv;
  let tmp: string;
  let home: string;
  let repo: string;
  let store: FileStore;
  let pipeline: Pipeline;
  const nonce = randomBytes(6).toString("hex");

  beforeAll(async () => {
    env = slurmTestEnv();
    tmp = await mkdtemp(join(tmpdir(), "gpu-dag-code-"));
    home = join(tmp, "home");
    repo = join(tmp, "project");
    await mkdir(join(repo, "mypkg"), { recursive: true });
    await writeFile(join(repo, "mypkg", "__init__.py"), "");
    await writeFile(join(repo, "mypkg", "greet.py"), `def greet():\n    return "v1 ${nonce}"\n`);
    await writeFile(join(repo, ".gitignore"), "*.log\n");
    git(repo, "init", "-q");
    git(repo, "add", ".");
    git(repo, "commit", "-qm", "v1");
    store = new FileStore({ home });
    const task = new Task({
      projectName: "p",
      taskName: "import",
      command: [
        "python3",
        "-c",
        "import os, mypkg.greet as g; print(g.greet()); print(os.getcwd()); print(os.environ['GPU_DAG_CODE_COMMIT'], os.environ['GPU_DAG_CODE_DIRTY']); print('scratch' if os.path.exists('scratch.py') else 'no-scratch')",
      ],
    });
    await task.createTask({ store });
    pipeline = new Pipeline({ projectName: "p", pipelineName: "ship-code" });
    pipeline.addStep({ name: "use", baseTaskId: task.id!, executionQueue: "services" });
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  /** Creates and drives a run with a backend of its recorded config; returns what the job printed and the uploads. */
  async function run(code: string | { dir: string; untracked?: "refuse" | "warn" | "include" } = repo): Promise<{ result: RunResult; lines: string[]; uploads: number; config: SlurmClusterConfig }> {
    const { runId } = await createRun(pipeline, { store, home, cluster: pipelineClusterConfig(env), code });
    const config = SlurmClusterConfigSchema.parse((await store.getRun(runId)).clusterConfig);
    const backend = new SlurmBackend({ config, pythonRuntimeDir: pythonRuntimeDir() });
    try {
      const result = await driveRun(runId, { store, home, backend });
      const lines = result.status === "succeeded" ? (await readFile(join(result.steps["use"]!.attemptDir!, "stdout.log"), "utf8")).trim().split("\n") : [];
      return { result, lines, uploads: backend.stats().codeUploads, config };
    } finally {
      await backend.close();
    }
  }

  it("a job imports a module of the shipped repository, starts in the run's copy, knows the commit; the record holds commit and dirty flag", async () => {
    const { result, lines, uploads, config } = await run();
    expect(result.status, result.reason).toBe("succeeded");
    const head = git(repo, "rev-parse", "HEAD");
    expect(config.code?.snapshot).toMatchObject({ root: repo, commit: head, dirty: false, tree: git(repo, "rev-parse", "HEAD^{tree}"), untracked: [] });
    expect(lines).toEqual([`v1 ${nonce}`, `${env.jobDir}/${result.runId}/code`, `${head} 0`, "no-scratch"]);
    expect(uploads).toBe(1);
  });

  it("a second run of the unchanged repository uploads nothing", async () => {
    const { result, lines, uploads } = await run();
    expect(result.status, result.reason).toBe("succeeded");
    expect(lines[0]).toBe(`v1 ${nonce}`);
    expect(uploads).toBe(0);
  });

  it("uncommitted changes travel (dirty: true, uploaded again); an untracked file is reported and left out", async () => {
    await writeFile(join(repo, "mypkg", "greet.py"), `def greet():\n    return "v2-uncommitted ${nonce}"\n`);
    await writeFile(join(repo, "scratch.py"), "print('not in git')\n");
    await writeFile(join(repo, "ignored.log"), "ignored by .gitignore\n");
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => void (w.code === "GPU_DAG_UNTRACKED" && warnings.push(w.message));
    process.on("warning", onWarning);
    try {
      const { result, lines, uploads, config } = await run();
      expect(result.status, result.reason).toBe("succeeded");
      expect(config.code?.snapshot).toMatchObject({ commit: git(repo, "rev-parse", "HEAD"), dirty: true, untracked: ["scratch.py"] });
      expect(lines[0]).toBe(`v2-uncommitted ${nonce}`);
      expect(lines[2]).toMatch(/ 1$/);
      expect(lines[3]).toBe("no-scratch");
      expect(uploads).toBe(1);
      // The user's index is untouched: nothing got staged.
      expect(
        git(repo, "status", "--porcelain")
          .split("\n")
          .map((l) => l.trim()),
      ).toEqual(["M mypkg/greet.py", "?? scratch.py"]);
    } finally {
      process.off("warning", onWarning);
    }
    await new Promise((r) => setImmediate(r));
    expect(warnings).toEqual([`code.dir ${repo}: 1 untracked file(s) not shipped: scratch.py (set code.untracked: include to ship them, or refuse)`]);
  });

  it("untracked: include ships them; untracked: refuse refuses the run before anything is recorded, naming the file", async () => {
    const included = await run({ dir: join(repo, "mypkg"), untracked: "include" });
    expect(included.result.status, included.result.reason).toBe("succeeded");
    expect(included.lines[3]).toBe("scratch");
    const before = (await store.listRuns()).length;
    const error = await createRun(pipeline, { store, home, cluster: pipelineClusterConfig(env), code: { dir: repo, untracked: "refuse" } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`code.dir ${repo}: 1 untracked file(s) would not be shipped: scratch.py`);
    expect((await store.listRuns()).length).toBe(before);
  });
});

/**
 * The package as a user gets it: `npm pack` of a clean copy of this checkout (so `prepack` must
 * build `dist/`), installed from the tarball into a fresh project, imported, type-checked against
 * and run — the library through a one-step pipeline, the CLI through its bin.
 *
 * The checkout is copied first: packing here would write `dist/` into the repository while other
 * tests run, and `bin/gpu-dag.js` prefers a `dist/` when it sees one.
 */
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../../..");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

let work: string;
let app: string;
let tarball: string;

/** Files a clean clone of the working tree would have (tracked plus new, ignored ones left out). */
async function cleanCopy(to: string): Promise<void> {
  const { stdout } = await exec("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  for (const file of stdout.split("\0").filter(Boolean)) {
    await cp(join(ROOT, file), join(to, file), { recursive: true, force: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error; // deleted in the working tree but not yet in git
    });
  }
  // Packing builds, which needs the dev dependencies; the copy borrows this checkout's.
  await symlink(join(ROOT, "node_modules"), join(to, "node_modules"));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "gpu-dag-pack-"));
  const source = join(work, "source");
  await cleanCopy(source);
  await exec("npm", ["pack", "--pack-destination", work, "--silent"], { cwd: source, maxBuffer: 64 * 1024 * 1024 });
  tarball = join(work, (await readdir(work)).find((f) => f.endsWith(".tgz"))!);
  app = join(work, "app");
  await mkdir(app);
  await writeFile(join(app, "package.json"), JSON.stringify({ name: "fresh-app", private: true, type: "module" }));
  // A TypeScript user on Node has @types/node; gpu-dag's declarations use Node's types.
  await exec("npm", ["install", "--no-audit", "--no-fund", "--silent", tarball, "@types/node@20"], { cwd: app, maxBuffer: 64 * 1024 * 1024 });
}, 240_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the packed package, installed into a fresh project", () => {
  it("ships the built library, the bin, the Python runtime, the task configs and the licence", async () => {
    const { stdout } = await exec("tar", ["-tzf", tarball]);
    const files = stdout.split("\n");
    for (const file of [
      "package/dist/index.js",
      "package/dist/index.d.ts",
      "package/dist/cli/main.js",
      "package/dist/remote/controller.mjs",
      "package/dist/ui/app.js",
      "package/bin/gpu-dag.js",
      "package/python/gpu_dag_runtime/__init__.py",
      "package/src/tasks/configs/openllm.yaml",
      "package/LICENSE",
    ]) {
      expect(files, file).toContain(file);
    }
    expect(
      files.some((f) => f.startsWith("package/test/")),
      "tests are not shipped",
    ).toBe(false);
  });

  it("imports, type-checks a script against its types and runs a pipeline with it", async () => {
    const script = [
      'import { Pipeline, Task, type RunResult } from "gpu-dag";',
      'const hello = new Task({ projectName: "p", taskName: "hello", command: ["sh", "-c", "echo hello {who}"], parameters: { who: "world" } });',
      "await hello.createTask();",
      'const pipeline = new Pipeline({ projectName: "p", pipelineName: "fresh" });',
      'pipeline.addStep({ name: "hello", baseTaskId: hello.id!, executionQueue: "default" });',
      "const result: RunResult = await pipeline.executeLocally();",
      "console.log(JSON.stringify({ status: result.status }));",
    ].join("\n");
    await writeFile(join(app, "main.ts"), script);
    await writeFile(
      join(app, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "nodenext", moduleResolution: "nodenext", target: "es2022", strict: true, noEmit: true, skipLibCheck: false, types: ["node"] }, files: ["main.ts"] }),
    );
    const checked = await exec(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: app }).then(
      () => "",
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(checked, "tsc errors").toBe("");
    // The same script as plain JS (types erased by hand: one annotation and one `!`).
    await writeFile(join(app, "main.mjs"), script.replace(", type RunResult", "").replace(": RunResult", "").replace("hello.id!", "hello.id"));
    const { stdout } = await exec(process.execPath, ["main.mjs"], { cwd: app, env: { ...process.env, GPU_DAG_HOME: join(work, "home") } });
    expect(JSON.parse(stdout.trim().split("\n").pop()!)).toEqual({ status: "succeeded" });
  });

  it("runs its bin without the development toolchain", async () => {
    const bin = join(app, "node_modules", ".bin", "gpu-dag");
    const { stdout } = await exec(bin, ["--version"], { cwd: app });
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const listed = await exec(bin, ["--home", join(work, "home"), "runs", "--json"], { cwd: app });
    const { runs } = JSON.parse(listed.stdout) as { runs: Array<{ pipelineName: string; status: string }> };
    expect(runs.map((r) => [r.pipelineName, r.status])).toEqual([["fresh", "succeeded"]]);
  });
});

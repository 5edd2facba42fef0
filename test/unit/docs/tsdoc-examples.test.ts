/**
 * Every `@example` in the TSDoc of `src/` is real code against today's API: each one is taken out
 * of its comment, type-checked with the project's strict settings (importing "gpu-dag" = the
 * sources) and run in a fresh store. A `// prints: text` comment on a line must match what that
 * example printed. The exports the docs promise an example for are checked to have one.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../../..");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const TSX = pathToFileURL(createRequire(join(ROOT, "package.json")).resolve("tsx")).href;

/** Declarations that must carry an `@example` (file → names). */
const REQUIRED: Record<string, readonly string[]> = {
  "src/api/pipeline.ts": ["Pipeline", "executeLocally", "executeRemotely"],
  "src/tasks/llm-compressor-task.ts": ["LLMCompressorTask"],
  "src/tasks/lm-eval-task.ts": ["LMEvalTask"],
  "src/tasks/generate-task.ts": ["GenerateTask"],
  "src/tasks/custom-task.ts": ["Task"],
  "src/args/wrap-arguments.ts": ["wrapArguments"],
};

interface Example {
  /** `file:Name`, unique. */
  id: string;
  file: string;
  name: string;
  code: string;
}

/** The fenced code of every `@example` in `text`, with the name of the declaration it documents. */
function extractExamples(file: string, text: string): Example[] {
  const examples: Example[] = [];
  for (const match of text.matchAll(/\/\*\*([\s\S]*?)\*\/\s*([^\n]*)/g)) {
    const [, body, declaration] = match;
    if (!body!.includes("@example")) continue;
    const name = /(?:class|function|interface|type|const)\s+(\w+)/.exec(declaration!)?.[1] ?? /^(?:(?:static|async|get|public)\s+)*(\w+)\s*[(<]/.exec(declaration!.trim())?.[1];
    if (!name) throw new Error(`${file}: an @example documents something this test cannot name: ${declaration}`);
    const lines = body!.split("\n").map((line) => line.replace(/^\s*\* ?/, ""));
    const section = lines.slice(lines.findIndex((line) => line.startsWith("@example")) + 1);
    const end = section.findIndex((line) => /^@\w/.test(line));
    const fenced = /```ts\n([\s\S]*?)\n```/.exec((end < 0 ? section : section.slice(0, end)).join("\n"));
    if (!fenced) throw new Error(`${file}: the @example of ${name} has no \`\`\`ts block`);
    examples.push({ id: `${file}:${name}`, file, name, code: fenced[1]! });
  }
  return examples;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".ts")).map((e) => join(e.parentPath, e.name));
}

let work: string;
let examples: Example[];
const fileOf = (example: Example): string => `${example.id.replace(/^src\//, "").replace(/[^A-Za-z0-9]+/g, "-")}.ts`;

beforeAll(async () => {
  examples = [];
  for (const path of await sourceFiles(join(ROOT, "src"))) {
    examples.push(...extractExamples(relative(ROOT, path), await readFile(path, "utf8")));
  }
  work = await mkdtemp(join(tmpdir(), "gpu-dag-examples-"));
  // "gpu-dag" is the sources, for tsc and for tsx alike (both read `paths`).
  const base = JSON.parse(await readFile(join(ROOT, "tsconfig.json"), "utf8")) as { compilerOptions: Record<string, unknown> };
  const { outDir: _outDir, rootDir: _rootDir, declaration: _declaration, sourceMap: _sourceMap, ...compilerOptions } = base.compilerOptions;
  await writeFile(join(work, "tsconfig.json"), JSON.stringify({ compilerOptions: { ...compilerOptions, noEmit: true, paths: { "gpu-dag": [join(ROOT, "src", "index.ts")] } }, include: ["*.ts"] }));
  await symlink(join(ROOT, "node_modules"), join(work, "node_modules"));
  // ES modules (top-level await), whatever package.json may or may not sit above the temp dir.
  await writeFile(join(work, "package.json"), JSON.stringify({ type: "module", private: true }));
  // A top-level await makes each file a module.
  for (const example of examples) await writeFile(join(work, fileOf(example)), `${example.code}\nexport {};\n`);
}, 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("TSDoc @example blocks", () => {
  it("are where the docs promise them", () => {
    const have = new Set(examples.map((e) => e.id));
    const missing = Object.entries(REQUIRED)
      .flatMap(([file, names]) => names.map((name) => `${file}:${name}`))
      .filter((id) => !have.has(id));
    expect(missing).toEqual([]);
  });

  it("type-check against today's API", async () => {
    const outcome = await exec(process.execPath, [TSC, "-p", join(work, "tsconfig.json")], { cwd: work, maxBuffer: 16 * 1024 * 1024 }).then(
      () => "",
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(outcome, "tsc errors in @example code").toBe("");
  }, 180_000);

  it("run, each in a fresh store, and print what their `// prints:` comments say", async () => {
    const failures: string[] = [];
    for (const example of examples) {
      const home = join(work, "homes", fileOf(example));
      await mkdir(home, { recursive: true });
      const run = await exec(process.execPath, ["--import", TSX, fileOf(example)], {
        cwd: work,
        env: { ...process.env, GPU_DAG_HOME: home },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 150_000,
      }).then(
        ({ stdout }) => ({ ok: true, stdout }),
        (error: { stdout?: string; stderr?: string; message: string }) => ({ ok: false, stdout: `${error.stdout ?? ""}\n${error.stderr ?? error.message}` }),
      );
      if (!run.ok) {
        failures.push(`${example.id} failed:\n${run.stdout}`);
        continue;
      }
      for (const [, printed] of example.code.matchAll(/\/\/ prints: (.*)$/gm)) {
        if (!run.stdout.split("\n").includes(printed!.trim())) failures.push(`${example.id}: expected a line "${printed!.trim()}" in:\n${run.stdout}`);
      }
    }
    expect(failures).toEqual([]);
  }, 600_000);
});

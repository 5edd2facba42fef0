/**
 * The bad-input corpus (test/fixtures/bad-inputs/cases.yaml): every file goes through the public
 * entry point a user would reach with it, and must fail with the exact error code and a message
 * naming the location — and nothing may be submitted or written to the store.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createRun } from "../../../src/api/create-run.js";
import { wrapArguments } from "../../../src/args/wrap-arguments.js";
import { planDryRun } from "../../../src/cli/dry-run.js";
import { loadClusterConfig } from "../../../src/config/load-cluster-config.js";
import { GpuDagError } from "../../../src/errors.js";
import { checkManifestPaths } from "../../../src/manifest/manifest-paths.js";
import { readOutputsManifest } from "../../../src/manifest/outputs-manifest.js";
import { PipelineDefinition } from "../../../src/pipeline/pipeline-definition.js";
import { parseTemplate } from "../../../src/pipeline/placeholders.js";
import { Task } from "../../../src/tasks/custom-task.js";
import { GenerateTask } from "../../../src/tasks/generate-task.js";
import { LLMCompressorTask } from "../../../src/tasks/llm-compressor-task.js";
import { LMEvalTask } from "../../../src/tasks/lm-eval-task.js";
import { tempDir } from "../helpers.js";
import { RecordingBackendDouble } from "./backend-double.js";

const CORPUS = join(import.meta.dirname, "../../fixtures/bad-inputs");
const KINDS = ["pipeline", "cluster", "task", "task-config", "arguments", "manifest", "outputs", "placeholder"] as const;
type Kind = (typeof KINDS)[number];
/** Corpus directory of each kind. */
const DIRS: Record<Kind, string> = {
  pipeline: "pipelines",
  cluster: "clusters",
  task: "tasks",
  "task-config": "task-configs",
  arguments: "arguments",
  manifest: "manifests",
  outputs: "outputs",
  placeholder: "placeholders",
};

interface Case {
  file: string;
  kind: Kind;
  code: string;
  message: string[];
  cluster?: string;
  runId?: string;
  /** (pipeline) run parameters given to createRun / the dry run. */
  parameters?: Record<string, string | number | boolean>;
  /** (task-config) the kind of draft whose `config` names the file (default lm-eval). */
  taskType?: string;
  /** Bytes of padding (YAML comment lines, JSON spaces) appended to a copy of the file, for size limits. */
  padBytes?: number;
  /** Substrings the message must not contain (e.g. the whole of a 300-character name). */
  absent?: string[];
}

const cases = (parse(readFileSync(join(CORPUS, "cases.yaml"), "utf8")) as { cases: Case[] }).cases;

const TASK_CLASSES: Record<string, new (options: never) => unknown> = {
  "lm-eval": LMEvalTask,
  "llm-compressor": LLMCompressorTask,
  generate: GenerateTask,
  custom: Task,
};

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

/**
 * The file a case's entry point reads: the corpus file itself, or for `padBytes` a copy (same
 * name, in a temp directory) with that much padding appended — huge files are made, not committed.
 */
async function inputFile(c: Case): Promise<string> {
  const path = join(CORPUS, c.file);
  if (c.padBytes === undefined) return path;
  const copy = join(await tempDir("gpu-dag-bad-input-pad-"), basename(c.file));
  const pad = c.file.endsWith(".json") ? " ".repeat(c.padBytes) : `# ${"x".repeat(78)}\n`.repeat(Math.ceil(c.padBytes / 81));
  writeFileSync(copy, readFileSync(path, "utf8") + pad);
  return copy;
}

/**
 * An attempt directory for an `outputs` case: `model/`, `results.json`, and `link-out`, a
 * symbolic link to `/etc`; the manifest is written into it as `outputs.json` with `@ATTEMPT@`
 * replaced by the directory.
 */
async function attemptDirFor(c: Case): Promise<{ dir: string; manifest: string }> {
  const dir = await tempDir("gpu-dag-bad-input-attempt-");
  mkdirSync(join(dir, "model"));
  writeFileSync(join(dir, "results.json"), "{}");
  symlinkSync("/etc", join(dir, "link-out"));
  const manifest = join(dir, "outputs.json");
  writeFileSync(manifest, readFileSync(join(CORPUS, c.file), "utf8").replaceAll("@ATTEMPT@", dir));
  return { dir, manifest };
}

/** Runs one case through its entry point; returns what it threw (or fails the test if nothing). */
async function run(c: Case, home: string, backend: RecordingBackendDouble, attempt?: { dir: string; manifest: string }): Promise<unknown> {
  const path = await inputFile(c);
  const text = readFileSync(path, "utf8");
  try {
    switch (c.kind) {
      case "pipeline": {
        const pipeline = PipelineDefinition.fromYaml(text, basename(c.file));
        await createRun(pipeline, {
          home,
          backend,
          cluster: join(CORPUS, c.cluster ?? "support/strict-local.yaml"),
          ...(c.runId !== undefined ? { runId: c.runId } : {}),
          ...(c.parameters ? { parameters: c.parameters } : {}),
        });
        break;
      }
      case "cluster":
        await loadClusterConfig(path);
        break;
      case "task": {
        const { type, options } = parse(text) as { type: string; options: never };
        const TaskClass = TASK_CLASSES[type];
        if (!TaskClass) throw new Error(`corpus: unknown task type ${type} in ${c.file}`);
        new TaskClass(options);
        break;
      }
      case "task-config": {
        const TaskClass = TASK_CLASSES[c.taskType ?? "lm-eval"];
        if (!TaskClass) throw new Error(`corpus: unknown task type ${c.taskType} in ${c.file}`);
        const required = c.taskType === "generate" ? { inputFile: "prompts.jsonl" } : {};
        new TaskClass({ projectName: "p", taskName: "t", modelId: "m", ...required, config: path } as never);
        break;
      }
      case "arguments":
        wrapArguments(text);
        break;
      case "manifest":
        await readOutputsManifest(path);
        break;
      case "outputs":
        // What the runner does with a finished job's manifest before recording its outputs.
        await checkManifestPaths(await readOutputsManifest(attempt!.manifest), attempt!.manifest, attempt!.dir);
        break;
      case "placeholder":
        parseTemplate(text);
        break;
    }
  } catch (error) {
    return error;
  }
  throw new Error(`${c.file} (${c.kind}) was accepted`);
}

describe("bad-input corpus", () => {
  let savedHome: string | undefined;
  beforeEach(() => {
    savedHome = process.env["GPU_DAG_HOME"];
    delete process.env["GPU_DAG_BAD_INPUT_UNSET_TOKEN"];
  });
  afterEach(() => {
    if (savedHome === undefined) delete process.env["GPU_DAG_HOME"];
    else process.env["GPU_DAG_HOME"] = savedHome;
  });

  it("has at least 150 cases, every kind, and exactly one case per corpus file", async () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    for (const kind of KINDS)
      expect(
        cases.some((c) => c.kind === kind),
        kind,
      ).toBe(true);
    const listed = cases.map((c) => c.file).sort();
    expect(new Set(listed).size).toBe(listed.length);
    const onDisk = (await Promise.all(KINDS.map(async (k) => (await filesUnder(join(CORPUS, DIRS[k]))).map((f) => `${DIRS[k]}/${f}`)))).flat().sort();
    expect(listed).toEqual(onDisk);
    for (const c of cases) expect(c.file.startsWith(`${DIRS[c.kind]}/`), c.file).toBe(true);
  });

  it.each(cases.map((c) => [`${c.kind} ${c.file} → ${c.code}`, c] as const))("%s", async (_, c) => {
    // A fresh store for each case; the default store (GPU_DAG_HOME) points at it too, so a write
    // through any path would show up there.
    const home = await tempDir("gpu-dag-bad-input-");
    process.env["GPU_DAG_HOME"] = home;
    const backend = new RecordingBackendDouble();
    const attempt = c.kind === "outputs" ? await attemptDirFor(c) : undefined;

    const error = await run(c, home, backend, attempt);

    expect(error, `${c.file}: ${String(error)}`).toBeInstanceOf(GpuDagError);
    const { code, message } = error as GpuDagError;
    expect(code, message).toBe(c.code);
    for (const part of c.message) expect(message).toContain(attempt ? part.replaceAll("@ATTEMPT@", attempt.dir) : part);
    for (const part of c.absent ?? []) expect(message).not.toContain(part);
    // Nothing was submitted, nothing written: the store directory is still empty (no runs/, no drafts).
    expect(backend.submissions).toEqual([]);
    expect(backend.calls.filter((call) => call !== "close")).toEqual([]);
    expect(await filesUnder(home)).toEqual([]);
    expect(readdirSync(home)).toEqual([]);
  });

  // A run id is chosen by createRun only; a dry run has none to refuse.
  const planned = cases.filter((c) => c.kind === "pipeline" && c.runId === undefined);
  it.each(planned.map((c) => [`dry run of ${c.file} → ${c.code}`, c] as const))("%s", async (_, c) => {
    const home = await tempDir("gpu-dag-bad-input-dry-");
    process.env["GPU_DAG_HOME"] = home;
    let error: unknown;
    try {
      const pipeline = PipelineDefinition.fromYaml(readFileSync(await inputFile(c), "utf8"), basename(c.file));
      await planDryRun(pipeline, { home, cluster: join(CORPUS, c.cluster ?? "support/strict-local.yaml"), ...(c.parameters ? { parameters: c.parameters } : {}) });
    } catch (thrown) {
      error = thrown;
    }
    // The dry run is the planning a real run does: the same problem, code and message.
    expect(error, `${c.file}: the dry run accepted what a run refuses`).toBeInstanceOf(GpuDagError);
    expect((error as GpuDagError).code, (error as GpuDagError).message).toBe(c.code);
    for (const part of c.message) expect((error as GpuDagError).message).toContain(part);
    for (const part of c.absent ?? []) expect((error as GpuDagError).message).not.toContain(part);
    expect(await filesUnder(home)).toEqual([]);
  });
});

/**
 * Generation fanned out NeMo-Skills style, for real: a `GenerateTask` with `fanOut` rendered into
 * its element and merge jobs (`generationElementCommand`, `generationMergeCommand`), each job run
 * as its own process by invoking those argv directly (the map steps that will run them are the
 * controller's). 2 seeds × 3 chunks, each chunk with its own `transformers serve` on the tiny
 * model; then one merge per seed, which checks the row counts and writes `output-rs{S}.jsonl`
 * atomically. The refusals, resume and the race run against hand-made shards or the stdlib fake
 * server (fast).
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { generationElementCommand, generationElements, generationFanOut, generationMergeCommand } from "../../src/tasks/generate-fan-out.js";
import { GenerateTask } from "../../src/tasks/generate-task.js";
import type { RenderContext } from "../../src/tasks/task-draft.js";
import { buildTinyFixture, fixturesDir, type ProcessResult, pythonEnv, readJsonl, readManifest, runPython, type TinyFixture } from "./env.js";

const env = await pythonEnv();
const python = env.python;
const context: RenderContext = { runtime: "real", python, gpus: 0 };

/** Runs a rendered job as a process with its own output directory, as a backend would. */
function runJob(argv: string[], outputDir: string, timeoutMs = 600_000): Promise<ProcessResult> {
  return runPython(argv[0]!, argv.slice(1), { env: { GPU_DAG_OUTPUT_DIR: outputDir }, timeoutMs });
}

/** A map's elements file as the controller describes elements (index, label, item, status, outputs or reason). */
async function elementsFile(path: string, elements: Array<{ item: Record<string, number>; status: string; outputDir?: string; reason?: string }>): Promise<string> {
  const entries = await Promise.all(
    elements.map(async (e, index) => ({
      index,
      key: `gen[${index}]`,
      label: `gen[${Object.entries(e.item)
        .map(([k, v]) => `${k}=${v}`)
        .join(",")}]`,
      item: e.item,
      status: e.status,
      ...(e.outputDir ? { outputs: await readManifest(e.outputDir) } : {}),
      ...(e.reason ? { reason: e.reason } : {}),
    })),
  );
  await writeFile(path, JSON.stringify(entries, null, 2));
  return path;
}

const rowsOf = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i, question: `what is ${i} plus 1?` }));
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r) + "\n").join("");

describe("python tier: generation over 2 seeds × 3 chunks, one process and server per element, merged per seed", () => {
  let fixture: TinyFixture;
  let work: string;

  beforeAll(async () => {
    fixture = await buildTinyFixture(python);
    work = await mkdtemp(join(tmpdir(), "gpu-dag-fanout-"));
  });

  describe("with a real server per element (transformers serve on the tiny model)", () => {
    let task: GenerateTask;
    const outputs = new Map<string, { dir: string; result: ProcessResult }>();

    beforeAll(async () => {
      task = new GenerateTask({
        projectName: "tiny",
        taskName: "fanout",
        modelId: fixture.model,
        serverType: "transformers",
        inputFile: fixture.generation_input,
        outputFile: join(work, "out", "output.jsonl"),
        promptConfig: fixture.prompt_config,
        numRandomSeeds: 2,
        numChunks: 3,
        fanOut: true,
        maxConcurrency: 4,
        serverTimeout: 300,
        extraArguments: "++inference.temperature=0.6 ++inference.tokens_to_generate=8",
      });
      const elements = generationElements(task);
      // Two element processes at a time on this small machine; each starts its own server.
      for (let i = 0; i < elements.length; i += 2) {
        await Promise.all(
          elements.slice(i, i + 2).map(async (element) => {
            const dir = join(work, `el-s${element.seed}-c${element.chunk}`);
            const result = await runJob(generationElementCommand(task, element, context).argv, dir);
            outputs.set(`${element.seed},${element.chunk}`, { dir, result });
          }),
        );
      }
    });

    it("each element ran its own server and wrote exactly its chunk's rows into its row-range shard", async () => {
      const input = await readJsonl(fixture.generation_input);
      expect(input).toHaveLength(20);
      const ranges = [
        [0, 6],
        [6, 13],
        [13, 20],
      ];
      for (const { seed, chunk } of generationElements(task)) {
        const { dir, result } = outputs.get(`${seed},${chunk}`)!;
        expect(result.code, result.stderr.slice(-3000)).toBe(0);
        expect(result.stderr).toMatch(/transformers server ready on http:\/\/127\.0\.0\.1:\d+/);
        expect(result.stderr).toMatch(/model server stopped/);
        const manifest = await readManifest(dir);
        const [a, b] = ranges[chunk]!;
        const shard = manifest.artifacts.find((x) => x.name === "shard")!;
        expect(basename(shard.path)).toBe(`output-rs${seed}.chunk-${chunk}-of-3.rows-${a}-${b}.jsonl`);
        expect(manifest.artifacts.find((x) => x.name === "server_log")!.path).toBe(join(dir, "server.log"));
        expect(manifest.metrics).toMatchObject({ "generation/num_rows": b! - a!, "generation/row_start": a, "generation/row_end": b, "generation/seed_index": seed, "generation/chunk_id": chunk });
        const rows = await readJsonl(shard.path);
        expect(rows.map((r) => r["id"])).toEqual(input.slice(a, b).map((r) => r["id"]));
        for (const row of rows) expect(typeof row["generation"]).toBe("string");
      }
      // No element merged anything: that is the merge job's.
      expect((await readdir(join(work, "out"))).filter((f) => !f.includes(".chunk-"))).toEqual([]);
    });

    it("one merge per seed from the elements file: output-rs{S}.jsonl with every input row, in order", async () => {
      const plan = generationFanOut(task)!;
      const file = await elementsFile(
        join(work, "gen.elements.json"),
        generationElements(task).map((e) => ({ item: { seed: e.seed, chunk: e.chunk }, status: "succeeded", outputDir: outputs.get(`${e.seed},${e.chunk}`)!.dir })),
      );
      const input = await readJsonl(fixture.generation_input);
      for (const seed of plan.mergeAxes.seed) {
        const dir = join(work, `merge-s${seed}`);
        const result = await runJob(generationMergeCommand(task, seed, { elements: file }, context).argv, dir, 120_000);
        expect(result.code, result.stderr).toBe(0);
        const manifest = await readManifest(dir);
        const final = join(work, "out", `output-rs${seed}.jsonl`);
        expect(manifest.artifacts).toEqual([
          { name: plan.outputArtifact(seed), path: final },
          { name: "merged", path: final },
        ]);
        expect(manifest.metrics).toEqual({ "generation/num_rows": 20, "generation/num_shards": 3, "generation/seed_index": seed });
        const rows = await readJsonl(final);
        expect(rows.map((r) => r["id"])).toEqual(input.map((r) => r["id"]));
        // Each merged row is its shard's row, byte for byte.
        const shards = generationElements(task)
          .filter((e) => e.seed === seed)
          .map((e) => outputs.get(`${e.seed},${e.chunk}`)!.dir);
        const fromShards = (await Promise.all(shards.map(async (d) => readFile((await readManifest(d)).artifacts.find((x) => x.name === "shard")!.path, "utf8")))).join("");
        expect(await readFile(final, "utf8")).toBe(fromShards);
      }
    });
  });

  describe("the merge's checks, resume per chunk and racing merges (hand-made shards, fake server)", () => {
    const seedTask = (dir: string, extra: Record<string, unknown> = {}) =>
      new GenerateTask({
        projectName: "p",
        taskName: "t",
        modelId: fixture.model,
        serverType: "transformers",
        inputFile: join(dir, "in.jsonl"),
        outputFile: join(dir, "out", "output.jsonl"),
        numRandomSeeds: 2,
        numChunks: 3,
        fanOut: true,
        ...extra,
      });

    it("a missing shard, a short one and one for another input size: exit 2 naming each, nothing written", async () => {
      const dir = join(work, "refuse");
      await mkdir(join(dir, "out"), { recursive: true });
      const input = rowsOf(10);
      await writeFile(join(dir, "in.jsonl"), jsonl(input));
      const answer = (rows: typeof input) => jsonl(rows.map((r) => ({ ...r, generation: `g${r.id}` })));
      // Seed 1 of a 10-row input in 3 chunks: rows 0-3, 3-6, 6-10.
      await writeFile(join(dir, "out", "output-rs1.chunk-0-of-3.rows-0-3.jsonl"), answer(input.slice(0, 3)));
      await writeFile(join(dir, "out", "output-rs1.chunk-1-of-3.rows-3-7.jsonl"), answer(input.slice(3, 7))); // an 11-row input's
      await writeFile(join(dir, "out", "output-rs1.chunk-2-of-3.rows-6-10.jsonl"), answer(input.slice(6, 8)) + '{"id": 8, "quest');
      const task = seedTask(dir);
      const r = await runJob(generationMergeCommand(task, 1, {}, context).argv, join(dir, "m1"), 60_000);
      expect(r.code).toBe(2);
      expect(r.lastLine).toBe(
        `gpu-dag: cannot merge seed 1 into ${join(dir, "out", "output-rs1.jsonl")}: 2 of 3 chunks missing or short — ` +
          "chunk 1 (rows 3-6): no shard output-rs1.chunk-1-of-3.rows-3-6.jsonl (found only output-rs1.chunk-1-of-3.rows-3-7.jsonl: another input size or chunk count); " +
          `chunk 2 (rows 6-10): ${join(dir, "out", "output-rs1.chunk-2-of-3.rows-6-10.jsonl")} has 2 complete rows of 4`,
      );
      expect(existsSync(join(dir, "out", "output-rs1.jsonl"))).toBe(false);
      expect(existsSync(join(dir, "m1", "outputs.json"))).toBe(false);

      // From an elements file: the failed element is named with its reason; other seeds' elements are not this merge's.
      await writeFile(join(dir, "out", "output-rs1.chunk-2-of-3.rows-6-10.jsonl"), answer(input.slice(6, 10)));
      const shard = (name: string) => ({ version: 1, simulated: false, models: [], artifacts: [{ name: "shard", path: join(dir, "out", name) }], metrics: {} });
      const elements = [
        { index: 3, label: "gen[seed=1,chunk=0]", item: { seed: 1, chunk: 0 }, status: "succeeded", outputs: shard("output-rs1.chunk-0-of-3.rows-0-3.jsonl") },
        { index: 4, label: "gen[seed=1,chunk=1]", item: { seed: 1, chunk: 1 }, status: "failed", reason: "exit code 4: model server not ready" },
        { index: 5, label: "gen[seed=1,chunk=2]", item: { seed: 1, chunk: 2 }, status: "succeeded", outputs: shard("output-rs1.chunk-2-of-3.rows-6-10.jsonl") },
        { index: 1, label: "gen[seed=0,chunk=1]", item: { seed: 0, chunk: 1 }, status: "failed", reason: "seed 0's problem" },
      ];
      await writeFile(join(dir, "elements.json"), JSON.stringify(elements));
      const e = await runJob(generationMergeCommand(task, 1, { elements: join(dir, "elements.json") }, context).argv, join(dir, "m2"), 60_000);
      expect(e.code).toBe(2);
      expect(e.lastLine).toContain(
        "1 of 3 chunks missing or short — chunk 1 (rows 3-6): no shard output-rs1.chunk-1-of-3.rows-3-6.jsonl (gen[seed=1,chunk=1] failed: exit code 4: model server not ready)",
      );
      expect(e.lastLine).not.toContain("seed 0's problem");

      // Shard rows that are not this input's rows are refused too.
      await writeFile(join(dir, "out", "output-rs1.chunk-1-of-3.rows-3-6.jsonl"), answer([input[3]!, input[5]!, input[4]!]));
      const wrong = await runJob(generationMergeCommand(task, 1, {}, context).argv, join(dir, "m3"), 60_000);
      expect(wrong.code).toBe(2);
      expect(wrong.lastLine).toContain("chunk 1 (rows 3-6): output-rs1.chunk-1-of-3.rows-3-6.jsonl line 2 is not input row 4 (field 'id': 5 != 4)");

      // Once every shard is right, the same merge succeeds: 10 rows.
      await writeFile(join(dir, "out", "output-rs1.chunk-1-of-3.rows-3-6.jsonl"), answer(input.slice(3, 6)));
      const ok = await runJob(generationMergeCommand(task, 1, {}, context).argv, join(dir, "m4"), 60_000);
      expect(ok.code, ok.stderr).toBe(0);
      expect((await readJsonl(join(dir, "out", "output-rs1.jsonl"))).map((r) => r["id"])).toEqual(input.map((r) => r.id));
      expect((await readManifest(join(dir, "m4"))).metrics["generation/num_rows"]).toBe(10);
    });

    it("resume per chunk: a torn shard requests only its missing rows; a complete one starts no server", async () => {
      const dir = join(work, "resume");
      await mkdir(join(dir, "out"), { recursive: true });
      const input = rowsOf(20);
      await writeFile(join(dir, "in.jsonl"), jsonl(input));
      const requests = join(dir, "requests.jsonl");
      const task = seedTask(dir, { serverType: "custom", serverCommand: `${python} ${join(fixturesDir, "fake_openai_server.py")} --port {port} --request-log ${requests}`, serverTimeout: 30 });
      const element = { seed: 1, chunk: 1 }; // rows 6-13
      const shard = join(dir, "out", "output-rs1.chunk-1-of-3.rows-6-13.jsonl");
      const kept = input.slice(6, 9).map((r) => JSON.stringify({ ...r, generation: `kept ${r.id}` }));
      await writeFile(shard, kept.join("\n") + '\n{"id": 9, "gener');
      const r = await runJob(generationElementCommand(task, element, context).argv, join(dir, "a1"), 120_000);
      expect(r.code, r.stderr).toBe(0);
      const rows = await readJsonl(shard);
      expect(rows.map((x) => x["id"])).toEqual([6, 7, 8, 9, 10, 11, 12]);
      expect(rows.slice(0, 3).map((x) => x["generation"])).toEqual(["kept 6", "kept 7", "kept 8"]);
      // The fake server echoes the prompt and the request seed: inference.random_seed (0) + seed index 1.
      expect(rows[3]!["generation"]).toBe("echo: what is 9 plus 1? seed=1");
      // Only rows 9-12 were requested (in any order: four requests are in flight at once).
      expect((await readJsonl(requests)).map((x) => x["text"]).sort()).toEqual([9, 10, 11, 12].map((i) => `what is ${i} plus 1?`).sort());
      const again = await runJob(generationElementCommand(task, element, context).argv, join(dir, "a2"), 120_000);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain("all 7 rows already filled");
      expect(again.stderr).not.toMatch(/server ready/);
      expect(await readJsonl(requests)).toHaveLength(4);
      expect((await readManifest(join(dir, "a2"))).metrics["generation/num_rows"]).toBe(7);
    });

    it("two merges racing on one seed: every read sees no file or the whole file, and no temporary file is left", async () => {
      const dir = join(work, "race");
      await mkdir(join(dir, "out"), { recursive: true });
      const n = 3000;
      const input = rowsOf(n);
      await writeFile(join(dir, "in.jsonl"), jsonl(input));
      const cuts = [0, 1000, 2000, 3000];
      for (let c = 0; c < 3; c++) {
        const rows = input.slice(cuts[c], cuts[c + 1]).map((r) => ({ ...r, generation: `answer ${r.id} `.repeat(8) }));
        await writeFile(join(dir, "out", `output-rs0.chunk-${c}-of-3.rows-${cuts[c]}-${cuts[c + 1]}.jsonl`), jsonl(rows));
      }
      const argv = generationMergeCommand(seedTask(dir), 0, {}, context).argv;
      const final = join(dir, "out", "output-rs0.jsonl");
      // Two merge loops run at once while this reader reads the final file as fast as it can.
      const driver = `
import json, subprocess, sys, threading
argv, final, n, manifests, rounds = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], 6
codes = []
def loop(k):
    for i in range(rounds):
        codes.append(subprocess.run(argv, env={**__import__("os").environ, "GPU_DAG_OUTPUT_DIR": f"{manifests}/m{k}-{i}"}, capture_output=True).returncode)
threads = [threading.Thread(target=loop, args=(k,)) for k in range(2)]
for t in threads: t.start()
reads, torn = 0, []
while any(t.is_alive() for t in threads):
    try:
        data = open(final, encoding="utf-8").read()
    except FileNotFoundError:
        continue
    reads += 1
    lines = data.split("\\n")
    if not data.endswith("\\n") or len(lines) - 1 != n or json.loads(lines[-2])["id"] != n - 1:
        torn.append(len(lines) - 1)
print(json.dumps({"codes": codes, "reads": reads, "torn": torn}))
`;
      const r = await runPython(python, ["-c", driver, JSON.stringify(argv), final, String(n), dir], { timeoutMs: 300_000 });
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { codes: number[]; reads: number; torn: number[] };
      expect(summary.codes).toEqual(Array(12).fill(0));
      expect(summary.reads).toBeGreaterThan(0);
      expect(summary.torn).toEqual([]);
      expect((await readdir(join(dir, "out"))).filter((f) => f.endsWith(".merging"))).toEqual([]);
      expect((await readJsonl(final)).map((x) => x["id"])).toEqual(input.map((x) => x.id));
    });
  });
});

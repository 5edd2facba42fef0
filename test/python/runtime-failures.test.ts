/**
 * Fast checks of the runners' failure modes and of the generation runner's machinery (server
 * lifecycle, chunks, seeds, resume), against a stdlib fake OpenAI-compatible server
 * (`fixtures/fake_openai_server.py`, started through `--server-type custom`).
 */

import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturesDir, pythonEnv, readJsonl, readManifest, runPython, runRunner } from "./env.js";

const env = await pythonEnv();
const fakeServer = join(fixturesDir, "fake_openai_server.py");

/** True while `pid` runs (a zombie — dead, waiting to be reaped by whoever adopted it — is not alive). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

describe("python runtime: failure modes and generation machinery", () => {
  const python = env.python;
  let work: string;
  let input: string;
  let model: string;
  let prompt: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "gpu-dag-rt-"));
    input = join(work, "input.jsonl");
    await writeFile(input, Array.from({ length: 20 }, (_, i) => JSON.stringify({ id: i, question: `q${i}` })).join("\n") + "\n");
    // A model directory is only checked for existence (config.json) by the generate runner.
    model = join(work, "model");
    await runPython(python, ["-c", `import os; os.makedirs(${JSON.stringify(model)}); open(os.path.join(${JSON.stringify(model)}, "config.json"), "w").write("{}")`]);
    prompt = join(work, "prompt.yaml");
    await writeFile(prompt, "system: be brief\nuser: 'Q: {question}'\n");
  });

  const custom = (extra = "") => `${python} ${fakeServer} --port {port} ${extra}`;
  const generate = (out: string, serverExtra = "", more: string[] = []) =>
    runRunner(
      python,
      "generate",
      [
        "--server-type",
        "custom",
        "--server-command",
        custom(serverExtra),
        "--model",
        model,
        "--input-file",
        input,
        "--output-file",
        join(out, "output.jsonl"),
        "--prompt-config",
        prompt,
        "--timeout-s",
        "30",
        ...more,
      ],
      { outputDir: out, timeoutMs: 120_000 },
    );

  // --- clear one-line failures -------------------------------------------------------------------

  it("compress: missing model path → exit 2 naming the path", async () => {
    const r = await runRunner(python, "compress", ["--model", "/nonexistent/tiny-model", "--recipe-yaml", "a: 1"], { outputDir: join(work, "c1") });
    expect(r.code).toBe(2);
    expect(r.lastLine).toBe("gpu-dag: model path not found: /nonexistent/tiny-model");
  });

  it("compress: bad recipe YAML → exit 2 with the line", async () => {
    const r = await runRunner(python, "compress", ["--model", "/nonexistent", "--recipe-yaml", "quant_stage:\n  quant_modifiers: [1\n  x: 2"], { outputDir: join(work, "c2") });
    expect(r.code).toBe(2);
    expect(r.lastLine).toMatch(/^gpu-dag: bad recipe YAML at line \d+, column \d+: /);
  });

  it("compress: recipe placeholder without a value → exit 2", async () => {
    const r = await runRunner(python, "compress", ["--model", "/nonexistent", "--recipe-yaml", "stage:\n  scheme: $scheme\n", "--recipe-args", '{"other": 1}'], { outputDir: join(work, "c3") });
    expect(r.code).toBe(2);
    expect(r.lastLine).toMatch(/placeholder\(s\) \$scheme have no value in --recipe-args/);
  });

  it("evaluate: missing model path → exit 2", async () => {
    const r = await runRunner(python, "evaluate", ["--model", "./no/such/model", "--tasks", "x"], { outputDir: join(work, "e1") });
    expect(r.code).toBe(2);
    expect(r.lastLine).toMatch(/^gpu-dag: model path not found: .*no\/such\/model$/);
  });

  it("evaluate --backend vllm without vllm installed → exit 3 naming the package and setup-python", async () => {
    const r = await runRunner(python, "evaluate", ["--model", model, "--backend", "vllm", "--tasks", "x"], { outputDir: join(work, "e2") });
    expect(r.code).toBe(3);
    expect(r.lastLine).toMatch(/missing Python package 'vllm'.*gpu-dag setup-python/);
  });

  it("generate --server-type vllm without vllm installed → exit 3", async () => {
    const out = join(work, "g-vllm");
    const r = await runRunner(python, "generate", ["--server-type", "vllm", "--model", model, "--server-gpus", "2", "--input-file", input, "--output-file", join(out, "o.jsonl")], { outputDir: out });
    expect(r.code).toBe(3);
    expect(r.lastLine).toMatch(/missing Python package 'vllm'.*gpu-dag setup-python/);
  });

  it("generate: unknown ++key → exit 2 with a did-you-mean", async () => {
    const out = join(work, "g-key");
    const r = await generate(out, "", ["++inference.temprature=0.5"]);
    expect(r.code).toBe(2);
    expect(r.lastLine).toMatch(/unknown main argument \+\+inference\.temprature \(did you mean \+\+inference\.temperature\?\)/);
  });

  it("generate: a template field missing from the input row → exit 2 before any server starts", async () => {
    const out = join(work, "g-tpl");
    const bad = join(work, "bad-prompt.yaml");
    await writeFile(bad, "user: '{nope}'\n");
    const r = await runRunner(
      python,
      "generate",
      ["--server-type", "custom", "--server-command", custom(), "--model", model, "--input-file", input, "--output-file", join(out, "o.jsonl"), "--prompt-config", bad],
      { outputDir: out },
    );
    expect(r.code).toBe(2);
    expect(r.lastLine).toMatch(/uses \{nope\} but input row 0 has no field 'nope'/);
    expect(existsSync(join(out, "server.log"))).toBe(false);
  });

  // --- server lifecycle ----------------------------------------------------------------------------

  describe("with a port already in use", () => {
    let blocker: Server;
    let port: number;
    beforeAll(async () => {
      blocker = createServer();
      await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
      port = (blocker.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((r) => blocker.close(() => r())));

    it("--server-port that is taken → exit 4 saying so, no server started", async () => {
      const out = join(work, "g-port");
      const r = await generate(out, "", ["--server-port", String(port)]);
      expect(r.code).toBe(4);
      expect(r.lastLine).toBe(`gpu-dag: --server-port ${port} is already in use on 127.0.0.1; pick another or leave it unset`);
    });

    it("without --server-port a free port is picked", async () => {
      const out = join(work, "g-autoport");
      const r = await generate(out);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/server ready on http:\/\/127\.0\.0\.1:(\d+)/);
      expect(r.stderr).not.toContain(`127.0.0.1:${port} `);
    });
  });

  it("a server that never becomes ready → exit 4 with the timeout and the log tail", async () => {
    const out = join(work, "g-never");
    const started = Date.now();
    const r = await generate(out, "--never-ready", ["--timeout-s", "3"]);
    expect(r.code).toBe(4);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.stderr).toMatch(/model server not ready after 3s: GET http:\/\/127\.0\.0\.1:\d+\/v1\/models gave/);
    expect(r.stderr).toContain("fake server: loading weights, this takes forever");
  });

  it("a server that exits before it is ready → exit 4 with its exit code and the log tail", async () => {
    const out = join(work, "g-early");
    const r = await generate(out, "--exit-early 9");
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/model server exited with code 9 before it was ready/);
    expect(r.stderr).toContain("fake server: CUDA out of memory (simulated)");
  });

  it("the server's exit code does not mask the client's: server exits 7 on SIGTERM, client succeeds → 0", async () => {
    const out = join(work, "g-mask-ok");
    const pidFile = join(work, "pids-ok");
    const r = await generate(out, `--term-exit 7 --pid-file ${pidFile} --spawn-child`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/model server stopped \(exit code 7; the job's exit code is the client's\)/);
    const rows = await readJsonl(join(out, "output.jsonl"));
    expect(rows).toHaveLength(20);
    expect(rows[3]!["generation"]).toBe("echo: Q: q3 seed=0");
    // The whole process group is gone, the server's own child included.
    const pids = (await readFile(pidFile, "utf8")).split("\n").map(Number);
    expect(pids).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 300));
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
  });

  it("…and a failing client is not masked by a server that exits 0: request refused → exit 1", async () => {
    const out = join(work, "g-mask-fail");
    const r = await generate(out, "--term-exit 0 --fail-on q7");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/generation for input row 7 failed: HTTP 400/);
    expect(r.stderr).toMatch(/model server stopped \(exit code 0/);
  });

  it("--script: the user's main script's exit code is the job's, with the server's address in its env", async () => {
    const out = join(work, "g-script");
    const script = join(work, "main.py");
    await writeFile(
      script,
      [
        "import json, os, sys, urllib.request",
        "url = os.environ['GPU_DAG_SERVER_URL'] + '/v1/models'",
        "models = json.load(urllib.request.urlopen(url))",
        "open(os.environ['GPU_DAG_OUTPUT_FILE'], 'w').write(json.dumps({'argv': sys.argv[1:], 'models': len(models['data'])}) + '\\n')",
        "sys.exit(5)",
      ].join("\n"),
    );
    const r = await runRunner(
      python,
      "generate",
      [
        "--server-type",
        "custom",
        "--server-command",
        custom("--term-exit 7"),
        "--model",
        model,
        "--input-file",
        input,
        "--output-file",
        join(out, "output.jsonl"),
        "--script",
        script,
        "++anything.goes=1",
      ],
      { outputDir: out },
    );
    expect(r.code).toBe(5);
    const rows = await readJsonl(join(out, "output.jsonl"));
    expect(rows[0]).toEqual({ argv: ["++anything.goes=1"], models: 1 });
  });

  // --- seeds, chunks, resume -----------------------------------------------------------------------

  it("--num-random-seeds 2 writes output-rs0.jsonl and output-rs1.jsonl with different seeds", async () => {
    const out = join(work, "g-seeds");
    const r = await generate(out, "", ["--num-random-seeds", "2", "++inference.random_seed=10"]);
    expect(r.code, r.stderr).toBe(0);
    const rs0 = await readJsonl(join(out, "output-rs0.jsonl"));
    const rs1 = await readJsonl(join(out, "output-rs1.jsonl"));
    expect(rs0).toHaveLength(20);
    expect(rs1).toHaveLength(20);
    expect(rs0[0]!["generation"]).toBe("echo: Q: q0 seed=10");
    expect(rs1[0]!["generation"]).toBe("echo: Q: q0 seed=11");
    const manifest = await readManifest(out);
    expect(manifest.artifacts.map((a) => a.name)).toEqual(expect.arrayContaining(["output-rs0", "output-rs1"]));
    expect(manifest.metrics["generation/num_rows"]).toBe(40);
  });

  it("--num-chunks 3: chunks run concurrently, the last one merges in input order", async () => {
    const out = join(work, "g-chunks");
    const results = await Promise.all([0, 1, 2].map((k) => generate(join(out, `job${k}`), "", ["--output-file", join(out, "output.jsonl"), "--num-chunks", "3", "--chunk-id", String(k)])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const rows = await readJsonl(join(out, "output.jsonl"));
    expect(rows.map((r) => r["id"])).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const left = (await readdir(out)).filter((f) => f.includes("_chunk"));
    expect(left).toEqual([]);
    const merged = results.filter((r) => /merged 3 chunks/.test(r.stderr));
    expect(merged).toHaveLength(1);
  });

  it("skip-filled resume: complete rows are kept, a torn last line is redone, only the rest is requested", async () => {
    const out = join(work, "g-resume");
    const output = join(out, "output.jsonl");
    const requestLog = join(work, "requests.jsonl");
    await runPython(python, ["-c", `import os; os.makedirs(${JSON.stringify(out)}, exist_ok=True)`]);
    const kept = Array.from({ length: 5 }, (_, i) => JSON.stringify({ id: i, question: `q${i}`, generation: `old ${i}` }));
    await writeFile(output, kept.join("\n") + '\n{"id": 5, "quest');
    const r = await generate(out, `--request-log ${requestLog}`, ["--max-concurrency", "3"]);
    expect(r.code, r.stderr).toBe(0);
    const rows = await readJsonl(output);
    expect(rows).toHaveLength(20);
    expect(rows[4]!["generation"]).toBe("old 4");
    expect(rows[5]!["generation"]).toBe("echo: Q: q5 seed=0");
    const requests = await readJsonl(requestLog);
    expect(requests).toHaveLength(15);
    // Nothing left to do: a rerun starts no server at all.
    const again = await generate(out, `--request-log ${requestLog}`);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/server ready/);
    expect(await readJsonl(requestLog)).toHaveLength(15);
  });

  it("--server-type openai talks to --server-address and starts nothing", async () => {
    const out = join(work, "g-openai");
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const { spawn } = await import("node:child_process");
    const server = spawn(python, [fakeServer, "--port", String(port)], { stdio: "ignore" });
    try {
      for (let i = 0; i < 50; i++) {
        const ok = await fetch(`http://127.0.0.1:${port}/v1/models`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const r = await runRunner(
        python,
        "generate",
        [
          "--server-type",
          "openai",
          "--server-address",
          `http://127.0.0.1:${port}/v1`,
          "--model",
          "fake",
          "--input-file",
          input,
          "--output-file",
          join(out, "output.jsonl"),
          "++use_completions_api=true",
          "++max_samples=4",
        ],
        { outputDir: out },
      );
      expect(r.code, r.stderr).toBe(0);
      const rows = await readJsonl(join(out, "output.jsonl"));
      expect(rows).toHaveLength(4);
      expect(rows[0]!["generation"]).toBe("echo: q0 seed=0");
    } finally {
      server.kill("SIGKILL");
    }
  });

  // --- manifest ------------------------------------------------------------------------------------

  it("manifest: atomic, merges with an existing one, drops non-finite metrics with a warning", async () => {
    const out = join(work, "m");
    const code = [
      "from gpu_dag_runtime.manifest import Manifest, write_manifest",
      `out = ${JSON.stringify(out)}`,
      "write_manifest(out, models=[{'name': 'm', 'path': '/tmp/m'}], metrics={'a': 1})",
      "m = Manifest(out); m.add_artifact('r', '/tmp/r'); m.add_metrics({'nan': float('nan'), 'none': None, 'inf': float('inf'), 'b': 0.5, 's': 'x'}); m.write()",
    ].join("\n");
    const r = await runPython(python, ["-c", code]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/metric 'nan' dropped/);
    expect(r.stderr).toMatch(/metric 'none' dropped/);
    const manifest = await readManifest(out);
    expect(manifest).toEqual({
      version: 1,
      simulated: false,
      models: [{ name: "m", path: "/tmp/m", framework: "transformers" }],
      artifacts: [{ name: "r", path: "/tmp/r" }],
      metrics: { a: 1, b: 0.5 },
    });
    expect((await readdir(out)).filter((f) => f.startsWith(".tmp-"))).toEqual([]);
  });
});

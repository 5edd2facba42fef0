/** `setupPython()`: idempotent through its stamp file; failures name the step. */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GpuDagError } from "../../src/errors.js";
import { setupPython, venvPython } from "../../src/python/setup-python.js";
import { pythonEnv, runPython, venvDir } from "./env.js";

const env = await pythonEnv();

describe("setupPython", () => {
  it("returns at once when the stamp matches (no reinstall)", async () => {
    const started = Date.now();
    const lines: string[] = [];
    const result = await setupPython({ venv: venvDir, onLog: (l) => lines.push(l) });
    expect(result.python).toBe(venvPython(venvDir));
    expect(result.installed).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(lines.join("\n")).toMatch(/is up to date/);
  });

  it("the venv has torch 2.13.0 (CPU build) and the pinned tools", async () => {
    const r = await runPython(env.python, [
      "-c",
      "import torch, transformers, llmcompressor, lm_eval; from importlib.metadata import version as v; " +
        "print(torch.__version__, v('transformers'), v('llmcompressor'), v('lm_eval'), torch.cuda.is_available())",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n").at(-1)).toMatch(/^2\.13\.0(\+cpu)? 5\.17\.0 0\.14\.0\.1 0\.4\.13 False$/);
  });

  it("a missing base interpreter fails naming the step", async () => {
    const venv = join(await mkdtemp(join(tmpdir(), "gpu-dag-venv-")), "venv");
    const error = await setupPython({ venv, python: "/nonexistent/python3" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuDagError);
    expect((error as GpuDagError).message).toMatch(/^gpu-dag setup-python: creating the venv failed to start \(\/nonexistent\/python3\)/);
  });
});

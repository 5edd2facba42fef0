/**
 * The prepared GPU check (scripts/gpu-check), its CPU side for real: prepare.sh gathers a bundle
 * that is complete (every wheel's requirements met, Node and the bundled driver run) and fits in
 * what travels to the device; run.sh runs the whole check end to end on the CPU — real wheels
 * installed for the device's Python, real Node from the bundle, gpu-dag's Pipeline on the local
 * backend, the real tools — with a TEST DOUBLE of nvidia-smi (test/python/fixtures/fake-gpu)
 * reporting one GPU, since this machine has none.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturesDir, pythonEnv, repoRoot } from "./env.js";

const env = await pythonEnv();
const scripts = join(repoRoot, "scripts", "gpu-check");
const fakeGpu = join(fixturesDir, "fake-gpu");
const MiB = 1024 * 1024;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; `CUDA_VISIBLE_DEVICES` comes only from `extraEnv`, never from the test's environment. */
function run(argv: string[], extraEnv: Record<string, string>, timeoutMs: number): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env };
    delete childEnv["CUDA_VISIBLE_DEVICES"];
    Object.assign(childEnv, extraEnv);
    const child = spawn(argv[0]!, argv.slice(1), { cwd: repoRoot, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, stdout, stderr });
    });
  });
}

function duBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? duBytes(path) : statSync(path).size;
  }
  return total;
}

describe("GPU check: prepare.sh's bundle, and run.sh end to end on the CPU", () => {
  const tmp = mkdtempSync(join(tmpdir(), "gpu-dag-gpu-check-"));
  const bundle = join(tmp, "bundle");
  const prepareEnv = { GPU_CHECK_DIR: bundle, GPU_CHECK_PIP_PYTHON: env.python };
  let manifest: { node: { version: string }; wheels: Array<{ file: string; name: string; version: string }>; bundle_bytes: number; tree_bytes: number; limit_bytes: number };

  beforeAll(async () => {
    // Cold: ~25 MB of wheels from PyPI and one xz of Node (about a minute); both are cached.
    const prepared = await run(["bash", join(scripts, "prepare.sh")], prepareEnv, 900_000);
    expect(prepared.code, prepared.stderr).toBe(0);
    manifest = JSON.parse(readFileSync(join(bundle, "manifest.json"), "utf8"));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("bundles a wheel for every pin the device lacks, llm-compressor, compressed-tensors and lm-eval among them", async () => {
    const pins = await run([env.python, join(scripts, "wheel_pins.py"), "python/requirements.txt", join(scripts, "device-packages.txt"), join(scripts, "carry-too.txt")], {}, 60_000);
    expect(pins.code, pins.stderr).toBe(0);
    const canonical = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");
    const bundled = new Map(manifest.wheels.map((w) => [w.name, w.version]));
    const wanted = pins.stdout.trim().split("\n");
    expect(wanted.length).toBeGreaterThan(20);
    for (const pin of wanted) {
      const [name, version] = pin.split("==");
      expect(bundled.get(canonical(name!)), pin).toBe(version);
    }
    expect(wanted.some((p) => p.startsWith("torch=="))).toBe(false); // the image's CUDA torch is the point
    for (const name of ["llmcompressor", "compressed-tensors", "lm-eval", "fastapi", "uvicorn", "openai"]) expect(bundled.has(name), name).toBe(true);
    expect(readdirSync(join(bundle, "wheels"))).toHaveLength(manifest.wheels.length);
  });

  it("the wheels are complete: check_bundle.py passes, and names what a missing wheel breaks", async () => {
    const args = ["--device-packages", join(scripts, "device-packages.txt")];
    const ok = await run([env.python, join(scripts, "check_bundle.py"), join(bundle, "wheels"), ...args, "--require", "lm-eval"], {}, 120_000);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).problems).toEqual([]);

    const broken = join(tmp, "broken-wheels");
    cpSync(join(bundle, "wheels"), broken, { recursive: true });
    for (const file of readdirSync(broken)) if (file.startsWith("sqlitedict-")) rmSync(join(broken, file));
    const missing = await run([env.python, join(scripts, "check_bundle.py"), broken, ...args], {}, 120_000);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/lm_eval-0\.4\.13-py3-none-any\.whl needs sqlitedict: neither bundled nor on the device/);
  });

  it("Node and the bundled driver run from the bundle; the job-side runtime and the probe are in it", async () => {
    const node = join(tmp, "node");
    const unpacked = await run([env.python, "-c", "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))", join(bundle, "node.xz"), node], {}, 120_000);
    expect(unpacked.code, unpacked.stderr).toBe(0);
    await run(["chmod", "+x", node], {}, 10_000);
    const version = await run([node, "--version"], {}, 30_000);
    expect(version.stdout.trim()).toBe(manifest.node.version);
    const selfTest = await run([node, join(bundle, "gpu-dag", "gpu-check.mjs"), "--self-test"], {}, 60_000);
    expect(selfTest.code, selfTest.stderr).toBe(0);
    expect(selfTest.stdout).toMatch(/^gpu-dag \d+\.\d+\.\d+ bundle ok/);
    for (const file of [
      "python/gpu_dag_runtime/compress.py",
      "python/gpu_dag_runtime/evaluate.py",
      "python/gpu_dag_runtime/generate/__main__.py",
      "probe/sitecustomize.py",
      "src/tasks/configs",
      "check_bundle.py",
      "bin/flock",
    ]) {
      expect(existsSync(join(bundle, "gpu-dag", file)), file).toBe(true);
    }
  });

  it("the probe records a process from inside it, and still runs the sitecustomize it shadows", async () => {
    const shadowed = join(tmp, "image-site");
    const probes = join(tmp, "probe-records");
    mkdirSync(shadowed, { recursive: true });
    writeFileSync(join(shadowed, "sitecustomize.py"), `open(${JSON.stringify(join(tmp, "shadowed-ran"))}, "w").write("yes")\n`);
    const probe = join(bundle, "gpu-dag", "probe");
    const code = "import torch, sys; print(torch.__version__)";
    const ran = await run([env.python, "-c", code], { PYTHONPATH: `${probe}:${shadowed}`, GPU_CHECK_PROBE_DIR: probes, GPU_DAG_STEP: "probe_test", CUDA_VISIBLE_DEVICES: "3" }, 120_000);
    expect(ran.code, ran.stderr).toBe(0);
    expect(readFileSync(join(tmp, "shadowed-ran"), "utf8")).toBe("yes");
    const records = readdirSync(probes).map((f) => JSON.parse(readFileSync(join(probes, f), "utf8")));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ step: "probe_test", torch: true, device_names: ["cpu"], exited: true });
    // run() drops CUDA_VISIBLE_DEVICES from the test's environment but passes an explicit one.
    expect(records[0].cuda_visible_devices).toBe("3");
    expect(records[0].argv.slice(1, 3)).toEqual(["-c", code]);
  });

  it("fits in what travels to the device (64 MiB with the working tree), and prepare.sh refuses, naming sizes, when it would not", async () => {
    expect(manifest.bundle_bytes).toBe(duBytes(bundle) - statSync(join(bundle, "manifest.json")).size);
    expect(manifest.limit_bytes).toBe(64 * MiB);
    expect(manifest.tree_bytes).toBeGreaterThan(MiB); // the checkout's own files were counted
    expect(manifest.bundle_bytes + manifest.tree_bytes).toBeLessThanOrEqual(64 * MiB);

    const small = join(tmp, "too-small");
    const refused = await run(["bash", join(scripts, "prepare.sh")], { ...prepareEnv, GPU_CHECK_DIR: small, GPU_CHECK_LIMIT_MIB: "20" }, 600_000);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/too big to travel: the bundle is [\d.]+ MiB and the rest of the working tree [\d.]+ MiB, [\d.]+ MiB in all > 20 MiB \(GPU_CHECK_LIMIT_MIB\)\. Largest: node\.xz/);
    expect(existsSync(small)).toBe(false);
  });

  it("run.sh stops at once without CUDA unless told to run on the CPU", async () => {
    const out = join(tmp, "out-no-cuda");
    const stopped = await run(
      ["bash", join(scripts, "run.sh")],
      { GPU_CHECK_DIR: bundle, GPU_CHECK_PYTHON: env.python, GPU_CHECK_WORK: join(tmp, "work-no-cuda"), OUT: out, PATH: `${fakeGpu}:${process.env["PATH"]}` },
      120_000,
    );
    expect(stopped.code).toBe(1);
    expect(stopped.stdout + stopped.stderr).toMatch(/CUDA is not available to .* GPU_CHECK_ALLOW_CPU=1 runs the check on the CPU/);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(summary).toMatchObject({ ok: false, failedPhase: "cuda", exitCode: 1 });
  });

  it("run.sh runs the pipeline end to end on the CPU with one (fake) GPU from nvidia-smi, and writes the summary", async () => {
    const out = join(tmp, "out");
    const ran = await run(
      ["bash", join(scripts, "run.sh")],
      {
        GPU_CHECK_DIR: bundle,
        GPU_CHECK_PYTHON: env.python,
        GPU_CHECK_ALLOW_CPU: "1",
        GPU_CHECK_WORK: join(tmp, "work"),
        OUT: out,
        PATH: `${fakeGpu}:${process.env["PATH"]}`,
        // CPU sizes: the smallest model W4A16 takes (groups of 128), little calibration.
        GPU_CHECK_HIDDEN: "128",
        GPU_CHECK_LAYERS: "2",
        GPU_CHECK_NUM_SAMPLES: "16",
        GPU_CHECK_SEQ_LEN: "64",
        GPU_CHECK_BATCH_SIZE: "4",
      },
      900_000,
    );
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    const failed = (summary.checks ?? []).filter((c: any) => !c.ok);
    expect(ran.code, `${ran.stdout.slice(-4000)}\n${JSON.stringify(failed, null, 2)}`).toBe(0);
    expect(summary.ok).toBe(true);
    expect(summary.device).toBe("cpu");
    expect(summary.run.status).toBe("succeeded");
    // The pool found the GPU itself through nvidia-smi -L (run.sh unset CUDA_VISIBLE_DEVICES).
    expect(summary.gpus.poolDetected).toEqual(["0"]);
    expect(summary.gpus.nvidiaSmiL[0]).toMatch(/^GPU 0: Fake GPU \(test double\)/);
    expect(summary.gpus.cudaVisibleDevicesBefore).toBeNull();

    const names = ["compress", "eval_base", "eval_compressed", "generate"];
    expect(Object.keys(summary.steps)).toEqual(names);
    for (const name of names) {
      const step = summary.steps[name];
      expect(step.status, name).toBe("succeeded");
      expect(step.queue).toBe("gpu-x1");
      expect(step.jobDevices, name).toEqual(["0"]);
      // Seen from inside the job's own processes by the probe, not from the controller.
      expect(step.cudaVisibleDevices, name).toEqual(["0"]);
      expect(step.deviceNames, name).toEqual(["cpu"]);
      expect(step.processes.length, name).toBeGreaterThan(0);
      expect(step.wallS, name).toBeGreaterThan(0);
      expect(step.logTail.stderr.length, name).toBeGreaterThan(0);
    }
    // One GPU: the four jobs ran one after another (compress and eval_base were ready together).
    const intervals = names.map((n) => [summary.steps[n].startS, summary.steps[n].endS] as [number, number]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < intervals.length; i++) expect(intervals[i]![0]).toBeGreaterThanOrEqual(intervals[i - 1]![1]);
    expect(summary.steps.eval_base.waitS + summary.steps.compress.waitS).toBeGreaterThan(0);

    expect(summary.steps.compress.metrics["compress/duration_s"]).toBeGreaterThan(0);
    for (const name of ["eval_base", "eval_compressed"]) expect(Number.isFinite(summary.steps[name].metrics["tiny_suite/acc"]), name).toBe(true);
    expect(summary.steps.generate.metrics["generation/num_rows"]).toBe(20);
    expect(summary.steps.generate.logTail.stderr).toMatch(/model server stopped/);
    expect(summary.gpuSampleCount).toBeGreaterThan(0); // the sampler read the (fake) nvidia-smi

    // The preflight: the carried wheels installed (for the device's 3.12; this venv is 3.11, so off its path).
    expect(summary.preflight.wheels).toEqual({ count: manifest.wheels.length, onPath: false });
    expect(summary.preflight.node).toBe(manifest.node.version);
    expect(summary.preflight.imports.llmcompressor.version).toBe("0.14.0.1");
    expect(summary.preflight.model).toMatchObject({ hidden: 128, layers: 2 });
    expect(Object.keys(summary.preflight.phasesS)).toEqual(["bundle", "cuda", "tools", "node", "wheels", "imports", "model"]);
    expect(existsSync(join(tmp, "work", "site", "llmcompressor"))).toBe(true);
    for (const file of ["run.log", "logs.tar.gz"]) expect(statSync(join(out, file)).size, file).toBeGreaterThan(0);
    expect(readdirSync(out).length).toBeLessThanOrEqual(8); // what comes back from the device
  });
});

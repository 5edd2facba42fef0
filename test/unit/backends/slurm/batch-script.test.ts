import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobSpec } from "../../../../src/backends/queue-backend.js";
import { type BatchScriptInput, commandLine, renderBatchScript, renderSecretEnv, sbatchDirectives, slurmTime } from "../../../../src/backends/slurm/batch-script.js";
import { resolveBatchJob, type SlurmJobConfig } from "../../../../src/backends/slurm/resolve-job.js";
import { BackendError, ConfigError } from "../../../../src/errors.js";

const NASTY = ["$HOME", "`id`", "'q'", '"dq"', "a b", "semi;colon|pipe&", "new\nline", "ü✓", "", "\\", "$(echo x)", "*"];

const config: SlurmJobConfig = {
  jobDir: "/shared/me/gpu-dag",
  account: "llm",
  partition: "cpu",
  qos: "normal",
  queues: {
    "oneshot-a100x1": {
      partition: "gpu-a100",
      gpus: 1,
      nodes: 1,
      cpus: 8,
      mem: "64G",
      time: 4 * 3600,
      constraint: "a100&nvlink",
      exclusive: true,
      extraSbatch: ["--reservation=llm"],
    },
    pyxis: { partition: "gpu-h100", gres: "gpu:h100:2", nodes: 1, extraSbatch: [], container: "vllm" },
    apptainer: { nodes: 1, extraSbatch: [], container: "vllm", python: "/opt/venv/bin/python" },
  },
  env: { HF_HOME: "/shared/hf cache", CLUSTER_WIDE: "1" },
  setup: ["module load cuda/12.4"],
  python: "/shared/venv/bin/python",
  containers: { vllm: "nvcr.io/nvidia/vllm:24.05" },
  mounts: ["/shared:/shared", "/data:/data:ro"],
};

const spec = (over: Partial<JobSpec> = {}): JobSpec => ({
  jobName: "gd-run1-compress-a1",
  runId: "run1",
  step: "compress",
  attempt: 1,
  queue: "oneshot-a100x1",
  // What resolveQueue gives for oneshot-a100x1 (the spec's resources are final).
  resources: { gpus: 1, nodes: 1, cpus: 8, mem: "64G", timeLimitSeconds: 4 * 3600 },
  argv: ["python", "-m", "gpu_dag_runtime.compress", "++recipe=w4a16", "++note=it's $cheap"],
  env: { STEP_VAR: "x y" },
  secretEnv: { HF_TOKEN: "hf_SECRET_never_in_script" },
  attemptDir: "/local/runs/run1/compress/a1",
  priority: 0,
  ...over,
});

describe("renderBatchScript", () => {
  it("renders a full GPU job (snapshot)", async () => {
    const script = renderBatchScript(resolveBatchJob(config, spec(), config.jobDir));
    await expect(script).toMatchFileSnapshot("__snapshots__/oneshot-a100x1.sbatch");
  });

  it("renders a pyxis container job (snapshot)", async () => {
    const script = renderBatchScript(resolveBatchJob(config, spec({ queue: "pyxis", resources: { gpus: 2, nodes: 1 } }), config.jobDir));
    await expect(script).toMatchFileSnapshot("__snapshots__/pyxis.sbatch");
    expect(script).toContain("#SBATCH --gres=gpu:h100:2");
    expect(script).toContain("srun --ntasks=1 --container-image=nvcr.io/nvidia/vllm:24.05 --container-mounts=/shared:/shared,/data:/data:ro");
  });

  it("wraps apptainer/singularity with exec --nv and binds, and uses the queue's python", () => {
    const input = resolveBatchJob({ ...config, containerRuntime: "apptainer" }, spec({ queue: "apptainer" }), config.jobDir);
    expect(commandLine(input.argv, input.container)).toBe(
      "apptainer exec --nv --bind /shared:/shared --bind /data:/data:ro nvcr.io/nvidia/vllm:24.05 /opt/venv/bin/python -m gpu_dag_runtime.compress ++recipe=w4a16 '++note=it'\\''s $cheap'",
    );
  });

  it("is deterministic and never contains a secret", () => {
    const a = renderBatchScript(resolveBatchJob(config, spec(), config.jobDir));
    const b = renderBatchScript(resolveBatchJob(config, spec(), config.jobDir));
    expect(a).toBe(b);
    expect(a).not.toContain("hf_SECRET_never_in_script");
    expect(a).not.toContain("HF_TOKEN");
  });

  it("maps queue resources to #SBATCH lines in a fixed order", () => {
    const input = resolveBatchJob(config, spec(), config.jobDir);
    expect(sbatchDirectives(input)).toEqual([
      "--job-name=gd-run1-compress-a1",
      "--output=/shared/me/gpu-dag/run1/compress/a1/stdout.log",
      "--error=/shared/me/gpu-dag/run1/compress/a1/stderr.log",
      "--chdir=/shared/me/gpu-dag/run1/compress/a1",
      "--partition=gpu-a100",
      "--nodes=1",
      "--gres=gpu:1",
      "--cpus-per-task=8",
      "--mem=64G",
      "--time=04:00:00",
      "--constraint=a100&nvlink",
      "--exclusive",
      "--account=llm",
      "--qos=normal",
      "--reservation=llm",
    ]);
  });

  it("takes the spec's resources as final over the queue's: a 30 s step limit on a 4 h queue gives --time=00:00:30", () => {
    const input = resolveBatchJob(config, spec({ resources: { gpus: 2, nodes: 1, cpus: 2, mem: "8G", timeLimitSeconds: 30 } }), config.jobDir);
    const lines = sbatchDirectives(input);
    expect(lines).toContain("--time=00:00:30");
    expect(lines).toContain("--cpus-per-task=2");
    expect(lines).toContain("--mem=8G");
    expect(lines).toContain("--gres=gpu:2");
    expect(lines.join(" ")).not.toMatch(/04:00:00|--mem=64G|--cpus-per-task=8/);
    // A typed gres keeps its type and takes the spec's count.
    const pyxis = sbatchDirectives(resolveBatchJob(config, spec({ queue: "pyxis", resources: { gpus: 1, nodes: 1 } }), config.jobDir));
    expect(pyxis).toContain("--gres=gpu:h100:1");
    // No limit in the spec: none for Slurm either (the queue's was already folded into the spec).
    expect(sbatchDirectives(resolveBatchJob(config, spec({ resources: { gpus: 1, nodes: 1 } }), config.jobDir)).some((l) => l.startsWith("--time"))).toBe(false);
  });

  it("exports GPU_DAG_RUN_ID, GPU_DAG_STEP, GPU_DAG_ATTEMPT and GPU_DAG_OUTPUT_DIR, quoted, after the job's own env", () => {
    const script = renderBatchScript(resolveBatchJob(config, spec({ runId: "r'1", step: "a step", env: { GPU_DAG_STEP: "spoof" } }), config.jobDir));
    expect(script).toContain("export GPU_DAG_RUN_ID='r'\\''1'");
    expect(script).toContain("export GPU_DAG_STEP='a step'");
    expect(script).toContain("export GPU_DAG_ATTEMPT=1");
    // A step name no pipeline accepts ("a step") gets an injective directory name (stepDirName).
    expect(script).toContain("export GPU_DAG_OUTPUT_DIR=/shared/me/gpu-dag/r_1/a+20step/a1");
    expect(script.indexOf("export GPU_DAG_STEP='a step'")).toBeGreaterThan(script.indexOf("export GPU_DAG_STEP=spoof"));
  });

  it("refuses #SBATCH values that sbatch would split or mangle", () => {
    expect(() => renderBatchScript(resolveBatchJob({ ...config, jobDir: "/has space" }, spec(), "/has space"))).toThrow(BackendError);
    expect(() => renderBatchScript(resolveBatchJob({ ...config, queues: { q: { nodes: 1, extraSbatch: ["--comment=$(id)"] } } }, spec({ queue: "q" }), "/j"))).toThrow(/must not contain/);
  });

  it("names a missing container in a ConfigError", () => {
    expect(() => resolveBatchJob({ ...config, containers: {} }, spec({ queue: "pyxis" }), "/j")).toThrow(ConfigError);
  });

  it("formats Slurm times", () => {
    expect(slurmTime(59)).toBe("00:00:59");
    expect(slurmTime(90_061)).toBe("1-01:01:01");
  });
});

describe("the rendered script, run by bash", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gd-script-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const input = (argv: readonly string[], env: Record<string, string>): BatchScriptInput => ({
    jobName: "gd-r-s-a1",
    runId: "r",
    step: "s",
    attempt: 1,
    remoteAttemptDir: dir,
    sbatch: { nodes: 1, gpus: 0, extra: [] },
    setup: [],
    env,
    argv,
  });

  it("every env value and argv word arrives exactly; exit code marker written; secrets sourced then deleted", async () => {
    const env = Object.fromEntries(NASTY.map((v, i) => [`V${i}`, v]));
    const show = `for i in $(seq 0 ${NASTY.length - 1}); do eval "printf '%s\\0' \\"\\$V$i\\""; done; for a in "$@"; do printf '%s\\0' "$a"; done; printf '%s\\0' "$SECRET_X" "$GPU_DAG_OUTPUT_DIR"; exit 4`;
    const script = renderBatchScript(input(["bash", "-c", show, "bash", ...NASTY], env));
    await writeFile(join(dir, "job.sbatch"), script);
    await writeFile(join(dir, ".secret.env"), renderSecretEnv({ SECRET_X: "s3cr3t 'quoted' $x" }), { mode: 0o600 });
    let out = "";
    let code = 0;
    try {
      out = execFileSync("bash", [join(dir, "job.sbatch")], { encoding: "utf8" });
    } catch (error) {
      const e = error as { status: number; stdout: string };
      code = e.status;
      out = e.stdout;
    }
    expect(code).toBe(4);
    expect(out.split("\0").slice(0, -1)).toEqual([...NASTY, ...NASTY, "s3cr3t 'quoted' $x", dir]);
    expect(await readFile(join(dir, "exit_code"), "utf8")).toBe("4\n");
    await expect(readFile(join(dir, ".secret.env"))).rejects.toThrow(/ENOENT/);
  });

  it("a time limit is enforced to the second: the command is stopped, the marker says time-limit", async () => {
    const script = renderBatchScript({ ...input(["sh", "-c", "echo started; sleep 30; echo not-reached"], {}), sbatch: { nodes: 1, gpus: 0, extra: [], timeLimitSeconds: 1 } });
    await writeFile(join(dir, "job3.sbatch"), script);
    const started = Date.now();
    const result = (() => {
      try {
        return { code: 0, out: execFileSync("bash", [join(dir, "job3.sbatch")], { encoding: "utf8" }) };
      } catch (error) {
        return { code: (error as { status: number }).status, out: (error as { stdout: string }).stdout };
      }
    })();
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result).toEqual({ code: 124, out: "started\n" });
    expect(await readFile(join(dir, "exit_code"), "utf8")).toBe("124 time-limit\n");
  });

  it("a command that exits 124 by itself within its limit is not reported as timed out", async () => {
    const script = renderBatchScript({ ...input(["sh", "-c", "exit 124"], {}), sbatch: { nodes: 1, gpus: 0, extra: [], timeLimitSeconds: 60 } });
    await writeFile(join(dir, "job4.sbatch"), script);
    expect(() => execFileSync("bash", [join(dir, "job4.sbatch")])).toThrow();
    expect(await readFile(join(dir, "exit_code"), "utf8")).toBe("124\n");
  });

  it("a failing setup line stops the job with its code", async () => {
    const script = renderBatchScript({ ...input(["echo", "not reached"], {}), setup: ["false"] });
    await writeFile(join(dir, "job2.sbatch"), script);
    const result = (() => {
      try {
        return { code: 0, out: execFileSync("bash", [join(dir, "job2.sbatch")], { encoding: "utf8" }) };
      } catch (error) {
        return { code: (error as { status: number }).status, out: (error as { stdout: string }).stdout };
      }
    })();
    expect(result).toEqual({ code: 1, out: "" });
  });
});

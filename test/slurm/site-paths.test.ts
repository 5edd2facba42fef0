/**
 * Paths checked on the real cluster before the first job, in ONE remote command for the whole
 * run: a missing input refuses the run with nothing submitted, naming the step, the field and the
 * path; `checkPaths: create` makes output directories first (and the job then writes there); an
 * output directory that cannot be made, and a container mount whose source is missing, are
 * refused too.
 */
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlurmBackend } from "../../src/backends/slurm/slurm-backend.js";
import { SshTransport } from "../../src/backends/slurm/ssh-transport.js";
import { PipelineValidationError } from "../../src/errors.js";
import { type ClusterConfig, FileStore, GenerateTask, Pipeline, Task } from "../../src/index.js";
import { pythonRuntimeDir } from "../../src/package-root.js";
import { pipelineClusterConfig, type SlurmTestEnv, slurmTestEnv } from "./slurm-test-env.js";

describe("paths and mounts checked before submission", () => {
  let env: SlurmTestEnv;
  let home: string;
  let remote: SshTransport;
  let base: string;

  beforeAll(async () => {
    env = slurmTestEnv();
    home = await mkdtemp(join(tmpdir(), "gpu-dag-paths-"));
    base = `${env.jobDir}/paths-test-${randomBytes(4).toString("hex")}`;
    remote = new SshTransport({ host: env.host, port: env.port, user: env.user, identityFile: env.identityFile, knownHosts: env.knownHosts });
    // Inputs as the cluster user made them; one directory only root may write into.
    const made = await remote.exec(`mkdir -p '${base}/inputs' && printf '{"q":"1+1"}\\n{"q":"2+2"}\\n' > '${base}/inputs/prompts.jsonl' && chmod 555 '${base}/inputs'`);
    expect(made.code, made.stderr).toBe(0);
  });
  afterAll(async () => {
    await remote.exec(`chmod -R u+w '${base}' && rm -rf '${base}'`);
    await remote.close();
    await rm(home, { recursive: true, force: true });
  });

  const cluster = (over: Partial<Extract<ClusterConfig, { executor: "slurm" }>> = {}): Extract<ClusterConfig, { executor: "slurm" }> =>
    ({ ...pipelineClusterConfig(env, { GPU_DAG_SIMULATE_SECONDS: "0.2" }), ...over }) as Extract<ClusterConfig, { executor: "slurm" }>;
  const backendFor = (config: ClusterConfig) => new SlurmBackend({ config: config as Extract<ClusterConfig, { executor: "slurm" }>, pythonRuntimeDir: pythonRuntimeDir() });

  /** Twelve generations reading existing inputs and writing into `outDir/<i>/`, plus `extra`. */
  async function pipelineWith(name: string, outDir: string, extra: (store: FileStore, p: Pipeline) => Promise<void>): Promise<Pipeline> {
    const store = new FileStore({ home });
    const gen = new GenerateTask({ projectName: "p", taskName: "gen", modelId: `${base}/inputs`, inputFile: `${base}/inputs/prompts.jsonl` });
    await gen.createTask({ store });
    const pipeline = new Pipeline({ projectName: "p", pipelineName: name });
    for (let i = 0; i < 12; i++) {
      pipeline.addStep({ name: `gen${i}`, baseTaskId: gen.id!, executionQueue: "services", parameterOverride: { outputFile: `${outDir}/${i}/out.jsonl` } });
    }
    await extra(store, pipeline);
    return pipeline;
  }

  it("a missing input: refused before anything is submitted, naming the step, the field and the path; one remote command for every check", async () => {
    const missing = `${base}/nowhere/prompts.jsonl`;
    const pipeline = await pipelineWith("missing-input", `${base}/out-missing`, async (store, p) => {
      const broken = new GenerateTask({ projectName: "p", taskName: "broken", modelId: "hub/model-name", inputFile: missing });
      await broken.createTask({ store });
      p.addStep({ name: "reads-nothing", baseTaskId: broken.id!, executionQueue: "services" });
    });
    const config = cluster();
    const backend = backendFor(config);
    try {
      const error = await pipeline.executeLocally({ home, cluster: config, backend, runtime: "simulate" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PipelineValidationError);
      const problems = (error as PipelineValidationError).problems;
      expect(problems).toEqual([{ step: "reads-nothing", field: "inputFile", message: `inputFile ${missing} does not exist on the cluster` }]);
      expect((error as Error).message).toContain(`step "reads-nothing", inputFile: inputFile ${missing} does not exist on the cluster`);
      // 13 steps, 26 distinct paths and the job dir: one command; nothing submitted.
      expect(backend.stats()).toMatchObject({ pathChecks: 1, execs: 1, sbatch: 0 });
      // `check` (the default) creates no output directory.
      expect(existsSync(`${base}/out-missing`)).toBe(false);
    } finally {
      await backend.close();
    }
    const runs = await new FileStore({ home }).listRuns();
    const run = runs.find((r) => r.pipelineName === "missing-input")!;
    const journal = await readFile(join(home, "runs", run.id, "journal.jsonl"), "utf8");
    expect(journal).not.toContain("attempt-planned");
    expect(journal).toContain(`inputFile ${missing} does not exist on the cluster`);
  });

  it("checkPaths: create makes every output directory (as the cluster user) before the first job; the jobs then write into them", async () => {
    // Without it the simulated generation (like many tools) would fail: it does not make its output directory.
    const outDir = `${base}/out-created`;
    const seen: boolean[] = [];
    const pipeline = await pipelineWith("create", outDir, async () => {});
    const config = cluster({ checkPaths: "create" });
    const backend = backendFor(config);
    try {
      const result = await pipeline.executeLocally({
        home,
        cluster: config,
        backend,
        runtime: "simulate",
        // Before each submission: its output directory is already there.
        hooks: { "*": { preExecute: ({ step }) => void seen.push(existsSync(`${outDir}/${step.slice(3)}`)) } },
      });
      // Every job ran and wrote its file (exit 0). (The runner then refuses an artifact outside
      // the attempt directory: that is the outputs manifest's rule, not the path check's.)
      for (let i = 0; i < 12; i++) expect(result.steps[`gen${i}`]!.exitCode, JSON.stringify(result.steps[`gen${i}`])).toBe(0);
      expect(backend.stats().pathChecks).toBe(1);
    } finally {
      await backend.close();
    }
    expect(seen).toEqual(Array(12).fill(true));
    expect(statSync(`${outDir}/0`).uid).toBe(statSync(env.jobDir).uid);
    expect((await readFile(`${outDir}/11/out.jsonl`, "utf8")).split("\n").filter(Boolean)).toHaveLength(2);
  });

  it("an output directory that cannot be made, and a container mount without a source: refused, each named", async () => {
    const blocked = `${base}/inputs/sub/out.jsonl`; // inputs/ is not writable by the cluster user
    const mountSource = `${base}/no-such-dataset`;
    const config = cluster({
      containers: { torch: "/images/torch.sqsh" },
      containerRuntime: "apptainer",
      mounts: [`${mountSource}:/data:ro`, `${base}/inputs:/inputs`],
      queues: { ...cluster().queues, boxed: { partition: env.partitions.cpu, cpus: 1, nodes: 1, container: "torch", extraSbatch: [] } },
    });
    const store = new FileStore({ home });
    const gen = new GenerateTask({ projectName: "p", taskName: "gen", modelId: "m", inputFile: `${base}/inputs/prompts.jsonl`, outputFile: blocked });
    await gen.createTask({ store });
    const boxed = new Task({ projectName: "p", taskName: "boxed", command: ["true"] });
    await boxed.createTask({ store });
    const pipeline = new Pipeline({ projectName: "p", pipelineName: "refused-paths" });
    pipeline.addStep({ name: "writer", baseTaskId: gen.id!, executionQueue: "services" });
    pipeline.addStep({ name: "in-box", baseTaskId: boxed.id!, executionQueue: "boxed" });
    const backend = backendFor(config);
    try {
      const error = await pipeline.executeLocally({ home, cluster: config, backend, runtime: "simulate" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PipelineValidationError);
      expect((error as PipelineValidationError).problems).toEqual([
        {
          step: "writer",
          field: "outputFile",
          message: `output directory (outputFile) ${base}/inputs/sub does not exist on the cluster and cannot be created (${base}/inputs is not a writable directory); create it, or set checkPaths: create`,
        },
        {
          step: "in-box",
          field: "mounts",
          message: `the source of container mount "${mountSource}:/data:ro" (queue "boxed" runs in container "torch") ${mountSource} does not exist on the cluster`,
        },
      ]);
      expect(backend.stats()).toMatchObject({ pathChecks: 1, sbatch: 0 });
    } finally {
      await backend.close();
    }
  });
});

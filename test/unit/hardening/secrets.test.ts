/**
 * Secrets never land in what gpu-dag writes itself: the store (run record, journal, cache),
 * events and results, rendered Slurm batch scripts, `--dry-run` output.
 *
 * The rule (see src/store/redact.ts): gpu-dag must not write a secret itself. A job's own
 * stdout.log / stderr.log are the job's: a job that prints its environment shows its secrets
 * there, and this test lets it (it even checks that the job received them, by reading its log).
 * But the stderr tail gpu-dag copies into a failure reason is gpu-dag's, and is scrubbed.
 *
 * Secrets planted: a cluster `requiredEnv` value, a task `secretEnv` value, a task `env` value
 * under a secret-looking name (`…_API_TOKEN`), a cluster-config `env` value under one (`…_PASSWORD`).
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Pipeline } from "../../../src/api/pipeline.js";
import { LocalBackend } from "../../../src/backends/local/local-backend.js";
import type { JobSpec, QueueBackend, SubmittedJob } from "../../../src/backends/queue-backend.js";
import { renderBatchScript, renderSecretEnv } from "../../../src/backends/slurm/batch-script.js";
import { resolveBatchJob, secretLookingEnv } from "../../../src/backends/slurm/resolve-job.js";
import { SlurmClusterConfigSchema } from "../../../src/config/cluster-config.js";
import type { RunEvent } from "../../../src/runner/run-types.js";
import { REDACTED, redactEnv, redactOptions, scrubText } from "../../../src/store/redact.js";
import { localCluster, tempStore } from "../helpers.js";

const unique = (label: string) => `${label}-${randomBytes(8).toString("hex")}`;

/** Files under `dir`, recursively (absolute paths). */
async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** A LocalBackend that also records the JobSpecs the runner submits (to render them for Slurm). */
class SpecRecordingLocalBackend implements QueueBackend {
  readonly kind = "local";
  readonly specs: JobSpec[] = [];
  readonly #inner: QueueBackend = new LocalBackend({ gpus: 0 });
  submit(jobs: readonly JobSpec[], options?: Parameters<QueueBackend["submit"]>[1]): Promise<SubmittedJob[]> {
    this.specs.push(...jobs);
    return this.#inner.submit(jobs, options);
  }
  poll: QueueBackend["poll"] = (ids) => this.#inner.poll(ids);
  onUpdate: QueueBackend["onUpdate"] = (listener) => this.#inner.onUpdate(listener);
  cancel: QueueBackend["cancel"] = (ids) => this.#inner.cancel(ids);
  logs: QueueBackend["logs"] = (id, options) => this.#inner.logs(id, options);
  collect: QueueBackend["collect"] = (id) => this.#inner.collect(id);
  adopt: QueueBackend["adopt"] = (spec, id) => this.#inner.adopt(spec, id);
  close: QueueBackend["close"] = () => this.#inner.close();
}

describe("secrets", () => {
  const secrets = {
    required: unique("required-env-value"),
    secretEnv: unique("secret-env-value"),
    taskToken: unique("task-env-token"),
    clusterPassword: unique("cluster-env-password"),
  };
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const name of ["GD_HARDENING_REQUIRED", "GD_HARDENING_SECRETENV"]) saved[name] = process.env[name];
    process.env["GD_HARDENING_REQUIRED"] = secrets.required;
    process.env["GD_HARDENING_SECRETENV"] = secrets.secretEnv;
  });
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("redact helpers: secret-looking names, options.env, free text", () => {
    expect(redactEnv({ HF_TOKEN: "a", WANDB_API_KEY: "b", DB_PASSWORD: "c", MY_SECRET: "d", client_secret_key: "e", PATH: "/bin" })).toEqual({
      HF_TOKEN: REDACTED,
      WANDB_API_KEY: REDACTED,
      DB_PASSWORD: REDACTED,
      MY_SECRET: REDACTED,
      client_secret_key: REDACTED,
      PATH: "/bin",
    });
    const options = { modelId: "m", env: { HF_TOKEN: "tok", LANG: "C" } };
    expect(redactOptions(options)).toEqual({ modelId: "m", env: { HF_TOKEN: REDACTED, LANG: "C" } });
    expect(options.env.HF_TOKEN).toBe("tok"); // not mutated
    expect(scrubText("a hunter22 b hunter22hunter22 c", ["hunter22", "hunter22hunter22"])).toBe("a *** b *** c");
    expect(scrubText("short values such as 1 are left alone", ["1"])).toBe("short values such as 1 are left alone");
  });

  it("planted secrets appear in no store file but the jobs' own logs, nor in events, results, batch scripts or dry-run output", async () => {
    const store = await tempStore();
    const cluster = localCluster({ requiredEnv: ["GD_HARDENING_REQUIRED"], env: { GD_CLUSTER_PASSWORD: secrets.clusterPassword } });
    const taskOptions = {
      // The job prints its whole environment (its own log may show secrets) and fails on the second step.
      env: { GD_HARDENING_API_TOKEN: secrets.taskToken, GD_PLAIN: "plain-value" },
      secretEnv: ["GD_HARDENING_SECRETENV"],
    };
    const pipeline = new Pipeline({ projectName: "unit", pipelineName: "secrets" })
      .addInlineTask("show", "custom", { ...taskOptions, command: ["sh", "-c", "env"] })
      .addInlineTask("leak", "custom", { ...taskOptions, command: ["sh", "-c", "env | grep -E '^GD_' >&2; exit 3"] })
      .addStep({ name: "show", baseTaskId: "show", executionQueue: "cpu" })
      .addStep({ name: "leak", baseTaskId: "leak", executionQueue: "cpu", parents: ["show"] });
    const backend = new SpecRecordingLocalBackend();
    const events: RunEvent[] = [];
    let result;
    try {
      result = await pipeline.executeLocally({ store, home: store.home, cluster, backend, retryBackoffMs: 10, onEvent: (e) => events.push(e) });
    } finally {
      await backend.close();
    }
    await store.close();
    expect(result.steps["show"]!.status).toBe("succeeded");
    expect(result.steps["leak"]!.status).toBe("failed");

    // The jobs received every secret: the job's own stdout shows them.
    const showLog = await readFile(join(result.steps["show"]!.attemptDir!, "stdout.log"), "utf8");
    for (const value of Object.values(secrets)) expect(showLog).toContain(value);
    // The failure reason carries the stderr tail, scrubbed.
    expect(result.steps["leak"]!.reason).toContain("stderr tail");
    expect(result.steps["leak"]!.reason).toContain(`GD_HARDENING_API_TOKEN=${REDACTED}`);
    expect(result.steps["leak"]!.reason).toContain("GD_PLAIN=plain-value");

    // Every file of the store, except the jobs' own logs, is free of every secret.
    const files = await allFiles(store.home);
    const jobLogs = files.filter((f) => ["stdout.log", "stderr.log"].includes(basename(f)));
    expect(jobLogs.length).toBeGreaterThanOrEqual(2);
    const gpuDagFiles = files.filter((f) => !jobLogs.includes(f));
    expect(gpuDagFiles.some((f) => f.endsWith("journal.jsonl"))).toBe(true);
    expect(gpuDagFiles.some((f) => f.endsWith("run.json"))).toBe(true);
    for (const file of gpuDagFiles) {
      const text = await readFile(file, "utf8");
      for (const [label, value] of Object.entries(secrets)) expect(text.includes(value), `${label} in ${file}`).toBe(false);
    }
    // What was recorded says where a redaction happened.
    const journal = await readFile(join(store.runDir(result.runId), "journal.jsonl"), "utf8");
    expect(journal).toContain(`"GD_HARDENING_API_TOKEN":"${REDACTED}"`);

    // Events and the result (what the CLI prints) hold no secret either.
    const shown = JSON.stringify({ events, result });
    for (const value of Object.values(secrets)) expect(shown.includes(value)).toBe(false);

    // The same steps rendered as Slurm batch scripts: no secret in the script; the secret-looking
    // env goes to the 0600 secret env file instead, with the secretEnv/requiredEnv values.
    const slurm = SlurmClusterConfigSchema.parse({ executor: "slurm", jobDir: "/scratch/gpu-dag", env: cluster.env, requiredEnv: cluster.requiredEnv, queues: { cpu: { partition: "cpu" } } });
    expect(backend.specs.map((s) => s.step).sort()).toEqual(["leak", "show"]);
    for (const spec of backend.specs) {
      const script = renderBatchScript(resolveBatchJob(slurm, spec, slurm.jobDir));
      for (const [label, value] of Object.entries(secrets)) expect(script.includes(value), `${label} in the ${spec.step} script`).toBe(false);
      expect(script).toContain("export GD_PLAIN=plain-value");
      const secretFile = renderSecretEnv({ ...secretLookingEnv(slurm, spec), ...spec.secretEnv });
      for (const value of Object.values(secrets)) expect(secretFile).toContain(value);
    }

    // `gpu-dag run --dry-run` output (the CLI's renderer), when the CLI is present.
    const dryRunModule = join(import.meta.dirname, "../../../src/cli/dry-run.ts");
    if (existsSync(dryRunModule)) {
      const { planDryRun, formatDryRun } = (await import(dryRunModule)) as typeof import("../../../src/cli/dry-run.js");
      for (const config of [cluster, slurm]) {
        const plan = await planDryRun(pipeline, { home: store.home, cluster: config });
        const text = formatDryRun(plan) + JSON.stringify(plan);
        for (const [label, value] of Object.entries(secrets)) expect(text.includes(value), `${label} in dry-run output (${config.executor})`).toBe(false);
      }
    }
  });
});

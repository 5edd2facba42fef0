/**
 * Runs whose controller lives on a cluster, the parts that need no Slurm: the journal mirror only
 * ever appends entries the local copy lacks (never replaces newer local history with a shorter
 * cluster copy), and a Slurm cluster without a services queue is refused — by the API and by
 * `run --remote` alike — before anything is recorded or submitted, instead of running the
 * controller here.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { Pipeline } from "../../../src/api/pipeline.js";
import { LocalTransport } from "../../../src/backends/slurm/local-transport.js";
import { ConfigError } from "../../../src/errors.js";
import { mirrorRemoteJournal } from "../../../src/remote/journal-mirror.js";
import type { RemoteRunInfo } from "../../../src/remote/remote-run-info.js";
import { FileStore } from "../../../src/store/file-store.js";
import { Task } from "../../../src/tasks/custom-task.js";
import { EXAMPLE, gd } from "../cli/cli-helpers.js";
import { tempDir } from "../helpers.js";

const line = (n: number) => JSON.stringify({ type: "note", n }) + "\n";

/** A local run dir and a "cluster" store dir on this machine (read through the real LocalTransport). */
async function mirrorSetup(local: string, remote: string) {
  const home = await tempDir("gpu-dag-mirror-");
  const clusterStore = await tempDir("gpu-dag-mirror-cluster-");
  const runId = "r1";
  await mkdir(join(home, "runs", runId), { recursive: true });
  await mkdir(join(clusterStore, "runs", runId), { recursive: true });
  await writeFile(join(home, "runs", runId, "journal.jsonl"), local);
  await writeFile(join(clusterStore, "runs", runId, "journal.jsonl"), remote);
  const store = new FileStore({ home });
  const info = { jobId: "1", storeDir: clusterStore, cluster: { executor: "slurm" } } as unknown as RemoteRunInfo;
  const journal = () => readFile(join(home, "runs", runId, "journal.jsonl"), "utf8");
  return { store, runId, info, journal };
}

describe("mirrorRemoteJournal: append-only", () => {
  it("local is a prefix of the cluster's journal: the missing entries are appended", async () => {
    const { store, runId, info, journal } = await mirrorSetup(line(1), line(1) + line(2) + line(3));
    const outcome = await mirrorRemoteJournal(store, runId, info, new LocalTransport());
    expect(outcome).toMatchObject({ kind: "appended", entries: 2 });
    expect(await journal()).toBe(line(1) + line(2) + line(3));
  });

  it("a torn last line on the cluster is not copied until it is complete", async () => {
    const { store, runId, info, journal } = await mirrorSetup(line(1), line(1) + line(2) + '{"type":"no');
    await mirrorRemoteJournal(store, runId, info, new LocalTransport());
    expect(await journal()).toBe(line(1) + line(2));
  });

  it("local has newer entries than the cluster (a local resume took over): the local journal is kept", async () => {
    const { store, runId, info, journal } = await mirrorSetup(line(1) + line(2) + line(3), line(1));
    const outcome = await mirrorRemoteJournal(store, runId, info, new LocalTransport());
    expect(outcome.kind).toBe("local-ahead");
    expect(await journal()).toBe(line(1) + line(2) + line(3));
  });

  it("journals that diverged are left alone, and the outcome says so", async () => {
    const { store, runId, info, journal } = await mirrorSetup(line(1) + line(2), line(1) + line(9));
    const outcome = await mirrorRemoteJournal(store, runId, info, new LocalTransport());
    expect(outcome).toMatchObject({ kind: "diverged", detail: expect.stringContaining("entry 2") });
    expect(await journal()).toBe(line(1) + line(2));
  });
});

/** A Slurm config with no services queue, at an address nothing listens on. */
const noServices = {
  executor: "slurm",
  ssh: { host: "127.0.0.1", port: 1, user: "nobody", readyTimeout: 2 },
  jobDir: "/tmp/nowhere",
  queues: { "oneshot-a100x1": { partition: "gpu", gpus: 1 } },
} as const;

describe("a Slurm cluster that cannot take a controller", () => {
  it("executeRemotely() rejects with a ConfigError naming the services queue; no run is recorded", async () => {
    const home = await tempDir("gpu-dag-noservices-");
    const store = new FileStore({ home });
    const task = new Task({ projectName: "p", taskName: "t", command: ["true"] });
    await task.createTask({ store });
    const pipeline = new Pipeline({ projectName: "p", pipelineName: "x" });
    pipeline.addStep({ name: "s", baseTaskId: task.id!, executionQueue: "oneshot-a100x1" });
    const error = await pipeline.executeRemotely({ store, home, cluster: noServices }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/services queue "services"/);
    expect(await store.listRuns()).toEqual([]);
  });

  it("run --remote says so (exit 2) instead of starting a controller on this machine; nothing is recorded", async () => {
    const home = await tempDir("gpu-dag-noservices-cli-");
    const config = join(home, "no-services.yaml");
    await writeFile(config, stringify({ ...noServices, queues: { cpu: { partition: "cpu" } } }));
    const result = await gd(home, ["run", join(EXAMPLE, "pipeline.yaml"), "--cluster", config, "--remote"]);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toMatch(/services queue "services"/);
    expect(result.stderr).toContain("no-services.yaml");
    expect(await readdir(join(home, "runs")).catch(() => [])).toEqual([]);
  });
});

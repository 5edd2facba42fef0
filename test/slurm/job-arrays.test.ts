/**
 * Map elements as Slurm job arrays, on the real one-node Slurm over SSH: one `sbatch --array`
 * for a map's elements, each element with its own id (`<array>_<index>`), attempt directory,
 * logs, outputs and state; the throttle `%K` held; one squeue exec per poll cycle; cancelling
 * elements and whole arrays; adopting an element after a restart; a resume that finds the
 * arrays already submitted and never submits them again.
 */
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTerminal, type JobSpec, type JobState, OUTPUTS_FILE, type QueueBackend, STDOUT_FILE } from "../../src/backends/queue-backend.js";
import type { SlurmBackend } from "../../src/backends/slurm/slurm-backend.js";
import type { ExecOptions, Transport } from "../../src/backends/slurm/transport.js";
import { transportFor } from "../../src/backends/slurm/transport-for.js";
import { BackendError } from "../../src/errors.js";
import { cancelRun, type SlurmTestEnv, slurmTestEnv, specFactory, testBackend, testClusterConfig } from "./slurm-test-env.js";

/** Resolves when every id has reached a terminal state (as the backend reports it). */
function waitFor(backend: QueueBackend, ids: readonly string[], ms = 180_000): Promise<Map<string, JobState>> {
  const states = new Map<string, JobState>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${ids.length} jobs; ${[...states.values()].filter(isTerminal).length} ended`));
    }, ms);
    const off = backend.onUpdate((id, state) => {
      states.set(id, state);
      if (ids.every((i) => states.has(i) && isTerminal(states.get(i) as JobState))) {
        clearTimeout(timer);
        off();
        resolve(states);
      }
    });
  });
}

/** Polls until `predicate` holds. */
async function pollUntil(backend: QueueBackend, ids: readonly string[], predicate: (states: Map<string, JobState>) => boolean, ms = 60_000): Promise<Map<string, JobState>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const states = await backend.poll(ids);
    if (predicate(states)) return states;
    if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify([...states])}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The run's distinct array job ids Slurm lists (`%F`: an array's id, a single job's own). */
function slurmJobsOfRun(runId: string): { arrays: string[]; singles: string[] } {
  const out = execFileSync("squeue", ["-h", "-r", "-t", "all", "-o", "%F %K %j"], { encoding: "utf8" });
  const rows = out
    .split("\n")
    .filter((l) => l.includes(`gd-${runId}-`))
    .map((l) => l.split(" "));
  return {
    arrays: [...new Set(rows.filter((r) => /^\d+$/.test(r[1] ?? "")).map((r) => r[0] as string))],
    singles: [...new Set(rows.filter((r) => !/^\d+$/.test(r[1] ?? "")).map((r) => r[0] as string))],
  };
}

/** A transport that records every program it sends. */
function recording(inner: Transport): Transport & { programs: string[] } {
  const programs: string[] = [];
  return {
    kind: inner.kind,
    programs,
    exec: (command: string, options?: ExecOptions) => {
      programs.push(options?.stdin ?? command);
      return inner.exec(command, options);
    },
    readFile: (path, options) => inner.readFile(path, options),
    writeFile: (path, data, options) => inner.writeFile(path, data, options),
    close: () => inner.close(),
  };
}

describe("map elements as Slurm job arrays (real Slurm over SSH)", () => {
  let env: SlurmTestEnv;
  let specs: Awaited<ReturnType<typeof specFactory>>;
  let backend: SlurmBackend;
  const backends: SlurmBackend[] = [];
  const fresh = (options: Parameters<typeof testBackend>[2] = {}): SlurmBackend => {
    const b = testBackend(env, "ssh", { pollIntervals: { min: 200, max: 1000 }, ...options });
    backends.push(b);
    return b;
  };

  beforeAll(async () => {
    env = slurmTestEnv();
    specs = await specFactory("ja");
    backend = fresh();
  });
  afterAll(async () => {
    cancelRun(specs.runId);
    await Promise.all(backends.map((b) => b.close()));
    await specs.cleanup();
  });

  /** Elements `indices` of map `map`: each echoes its index and writes it into its outputs. */
  function elements(map: string, indices: readonly number[], argv: (i: number) => string[], throttle?: number, over: Partial<JobSpec> = {}): JobSpec[] {
    return indices.map((i) => ({
      ...specs.makeSpec({ step: `${map}[${i}]`, queue: "cpu-small", argv: argv(i) }),
      group: { key: `${map}/a1`, map, index: i, ...(throttle !== undefined ? { throttle } : {}) },
      ...over,
    }));
  }
  const writesOutputs = (i: number) => [
    "sh",
    "-c",
    `echo "element $1"; printf ran >> "$GPU_DAG_OUTPUT_DIR/ran"; printf '{"metrics":{"index":%s}}' "$1" > "$GPU_DAG_OUTPUT_DIR/${OUTPUTS_FILE}"`,
    "sh",
    String(i),
  ];

  it("64 elements with throttle 8 go as ONE sbatch --array=0-63%8; all succeed with their own outputs; one squeue exec per poll cycle", async () => {
    const batch = elements(
      "gen",
      Array.from({ length: 64 }, (_, i) => i),
      writesOutputs,
      8,
    );
    const before = backend.stats();
    const submitted = await backend.submit(batch);
    const afterSubmit = backend.stats();
    const queued = execFileSync("squeue", ["-h", "-o", "%i", "-j", submitted[0]!.backendJobId.split("_")[0]!], { encoding: "utf8" });
    expect(afterSubmit.sbatch - before.sbatch).toBe(1);
    expect(afterSubmit.arrays - before.arrays).toBe(1);
    const array = submitted[0]!.backendJobId.split("_")[0];
    expect(submitted.map((s) => s.backendJobId)).toEqual(batch.map((_, i) => `${array}_${i}`));
    expect(submitted.map((s) => s.jobName)).toEqual(batch.map((s) => s.jobName));
    // squeue shows the array's pending elements as one throttled array job.
    expect(queued).toMatch(new RegExp(`^${array}_\\[\\d+-63%8\\]$`, "m"));
    const done = await waitFor(
      backend,
      submitted.map((s) => s.backendJobId),
    );
    const afterDone = backend.stats();
    expect([...done.values()].map((s) => s.status)).toEqual(batch.map(() => "succeeded"));
    const cycles = afterDone.pollCycles - afterSubmit.pollCycles;
    expect(cycles).toBeGreaterThan(0);
    expect(afterDone.squeue - afterSubmit.squeue).toBe(cycles);
    expect(afterDone.execs - afterSubmit.execs).toBe(cycles);
    expect(afterDone.sacct - afterSubmit.sacct).toBe(0);
    for (const [i, job] of submitted.entries()) {
      await backend.collect(job.backendJobId);
      const spec = batch[i]!;
      expect(await readFile(join(spec.attemptDir, STDOUT_FILE), "utf8")).toBe(`element ${i}\n`);
      expect(JSON.parse(await readFile(join(spec.attemptDir, OUTPUTS_FILE), "utf8"))).toEqual({ metrics: { index: i } });
      expect(job.jobDir).toBe(`${env.jobDir}/${specs.runId}/gen.${i}/a1`);
    }
  });

  it("the throttle holds: 6 elements of 2 s with %2 never overlap more than 2 (the node has room for 8)", async () => {
    const stamps = (i: number) => ["sh", "-c", 'date +%s%N; sleep 2; date +%s%N; echo "$1" > /dev/null', "sh", String(i)];
    const batch = elements("thr", [0, 1, 2, 3, 4, 5], stamps, 2);
    const submitted = await backend.submit(batch);
    const done = await waitFor(
      backend,
      submitted.map((s) => s.backendJobId),
    );
    expect([...done.values()].every((s) => s.status === "succeeded")).toBe(true);
    const intervals: Array<[bigint, bigint]> = [];
    for (const [i, job] of submitted.entries()) {
      await backend.collect(job.backendJobId);
      const [start, end] = (await readFile(join(batch[i]!.attemptDir, STDOUT_FILE), "utf8")).trim().split("\n").map(BigInt);
      intervals.push([start!, end!]);
    }
    const most = Math.max(...intervals.map(([start]) => intervals.filter(([s, e]) => s <= start && start < e).length));
    expect(most).toBeLessThanOrEqual(2);
  });

  it("cancels one element (running or pending) without the others, then a whole array with one scancel of its id", async () => {
    const transport = recording(transportFor(testClusterConfig(env, "ssh")));
    const b = fresh({ transport });
    const batch = elements("can", [0, 1, 2, 3, 4], () => ["sleep", "300"], 2);
    const ids = (await b.submit(batch)).map((s) => s.backendJobId);
    await pollUntil(b, ids, (s) => s.get(ids[0]!)?.status === "running" && s.get(ids[1]!)?.status === "running");
    const ended = waitFor(b, [ids[0]!, ids[4]!]);
    await b.cancel([ids[0]!, ids[4]!]);
    const states = await ended;
    expect([states.get(ids[0]!)?.status, states.get(ids[4]!)?.status]).toEqual(["cancelled", "cancelled"]);
    const scancels = () => transport.programs.filter((p) => p.includes("scancel "));
    expect(scancels()).toHaveLength(1);
    expect(scancels()[0]).toContain(`scancel ${ids[0]} ${ids[4]} `);
    const others = await b.poll([ids[1]!, ids[2]!, ids[3]!]);
    expect([...others.values()].every((s) => s.status === "queued" || s.status === "running")).toBe(true);
    const rest = waitFor(b, [ids[1]!, ids[2]!, ids[3]!]);
    await b.cancel([ids[1]!, ids[2]!, ids[3]!]);
    const array = ids[0]!.split("_")[0];
    expect(scancels()).toHaveLength(2);
    expect(scancels()[1]).toMatch(new RegExp(`scancel ${array} 2>&1`));
    expect([...(await rest).values()].map((s) => s.status)).toEqual(["cancelled", "cancelled", "cancelled"]);
    const left = execFileSync("squeue", ["-h", "-r", "-t", "PENDING,RUNNING", "-o", "%i", "-j", array!], { encoding: "utf8" }).trim();
    expect(left).toBe("");
  });

  it("a new backend instance adopts an element by its id (123_4) and sees it finish", async () => {
    const batch = elements("ado", [0, 1, 2], (i) => ["sh", "-c", `sleep 2; echo adopted-${i}`]);
    const submitted = await backend.submit(batch);
    const second = fresh();
    const id = submitted[1]!.backendJobId;
    expect(id).toMatch(/^\d+_1$/);
    expect(await second.jobDirFor(batch[1]!)).toBe(submitted[1]!.jobDir);
    const ended = waitFor(second, [id]);
    const first = await second.adopt(batch[1]!, id);
    expect(["queued", "running", "succeeded"]).toContain(first.status);
    const final = isTerminal(first) ? first : (await ended).get(id);
    expect(final).toMatchObject({ status: "succeeded", exitCode: 0 });
    await second.collect(id);
    expect(await readFile(join(batch[1]!.attemptDir, STDOUT_FILE), "utf8")).toBe("adopted-1\n");
  });

  it("resume after a crash between sbatch and the journal: reuseExisting finds the array, submits nothing, every element runs once", async () => {
    const batch = elements("res", [0, 1, 2, 3, 4, 5], writesOutputs, 3);
    const crashed = fresh();
    const before = await crashed.submit(batch);
    await crashed.close(); // its ids never reached a journal
    const resumed = fresh();
    const again = await resumed.submit(batch, { reuseExisting: true });
    expect(again.map((j) => j.backendJobId)).toEqual(before.map((j) => j.backendJobId));
    expect(resumed.stats().sbatch).toBe(0);
    const done = await waitFor(
      resumed,
      again.map((j) => j.backendJobId),
    );
    expect([...done.values()].every((s) => s.status === "succeeded")).toBe(true);
    for (const i of batch.keys()) expect(await readFile(join(env.jobDir, specs.runId, `res.${i}`, "a1", "ran"), "utf8")).toBe("ran");
    expect(slurmJobsOfRun(specs.runId).arrays.filter((a) => before[0]!.backendJobId.startsWith(`${a}_`))).toHaveLength(1);
  });

  it("resume after a crash mid-submit: chunks and elements already submitted are found, only the rest is submitted (as arrays of the missing indices)", async () => {
    // 11 elements in chunks of 5 (MaxArraySize 5). The crashed controller got only chunk 0 out,
    // plus elements 6 and 8 in an array of another shape (an earlier round).
    const batch = elements(
      "mid",
      Array.from({ length: 11 }, (_, i) => i),
      writesOutputs,
      10,
    );
    const crashed = fresh({ maxArraySize: 5 });
    const chunk0 = await crashed.submit(batch.slice(0, 5));
    const odd = await crashed.submit([batch[6]!, batch[8]!]);
    await crashed.close();
    const arraysBefore = slurmJobsOfRun(specs.runId).arrays.length;
    const resumed = fresh({ maxArraySize: 5 });
    const again = await resumed.submit(batch, { reuseExisting: true });
    const ids = again.map((j) => j.backendJobId);
    expect(ids.slice(0, 5)).toEqual(chunk0.map((j) => j.backendJobId));
    expect([ids[6], ids[8]]).toEqual(odd.map((j) => j.backendJobId));
    // Chunk 1 (5–9) lacked 5, 7, 9; chunk 2 is element 10: two sbatch, no element twice.
    expect(resumed.stats().sbatch).toBe(2);
    expect(slurmJobsOfRun(specs.runId).arrays.length - arraysBefore).toBe(2);
    expect(new Set(ids).size).toBe(11);
    const done = await waitFor(resumed, ids);
    expect([...done.values()].every((s) => s.status === "succeeded")).toBe(true);
    for (const i of batch.keys()) expect(await readFile(join(env.jobDir, specs.runId, `mid.${i}`, "a1", "ran"), "utf8")).toBe("ran");
  });

  it("an array sbatch refuses: each of its elements is refused under its own name with sbatch's reason, and what the batch submitted before is cancelled", async () => {
    const config = testClusterConfig(env, "ssh");
    const b = fresh({ config: { ...config, queues: { ...config.queues, elsewhere: { partition: env.partitions.cpu, cpus: 1, nodes: 1, extraSbatch: ["--nodelist=no-such-node-xyz"] } } } });
    const single = specs.makeSpec({ step: "ref-single", queue: "cpu-small", argv: ["sleep", "60"] });
    const batch = elements("ref", [0, 1, 2], () => ["true"], undefined, { queue: "elsewhere" });
    const error = await b.submit([single, ...batch]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackendError);
    const refused = (error as BackendError).refused;
    expect([...refused.keys()]).toEqual(batch.map((e) => e.jobName));
    for (const r of refused.values()) expect(r.reason).toMatch(/Invalid node name specified/);
    const singleState = execFileSync("squeue", ["-h", "-t", "all", "-n", single.jobName, "-o", "%T"], { encoding: "utf8" }).trim();
    expect(singleState).toBe("CANCELLED");
  });

  it("inputFiles land under each job's attempt directory before it starts (elements and single jobs)", async () => {
    const reads = ["sh", "-c", 'cat "$GPU_DAG_OUTPUT_DIR/in/elements.json"'];
    const batch = elements("inp", [0, 1], () => reads);
    batch.forEach((spec, i) => {
      spec.inputFiles = { "in/elements.json": `[{"index":${i},"note":"it's $HOME"}]` };
    });
    const single: JobSpec = { ...specs.makeSpec({ step: "inp-single", queue: "cpu-small", argv: reads }), inputFiles: { "in/elements.json": "single" } };
    const submitted = await backend.submit([...batch, single]);
    expect(submitted[0]!.backendJobId).toMatch(/_0$/);
    const done = await waitFor(
      backend,
      submitted.map((s) => s.backendJobId),
    );
    expect([...done.values()].every((s) => s.status === "succeeded")).toBe(true);
    for (const job of submitted) await backend.collect(job.backendJobId);
    expect(await readFile(join(batch[1]!.attemptDir, STDOUT_FILE), "utf8")).toBe(`[{"index":1,"note":"it's $HOME"}]`);
    expect(await readFile(join(single.attemptDir, STDOUT_FILE), "utf8")).toBe("single");
  });
});

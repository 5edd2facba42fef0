/**
 * SlurmBackend against the real one-node Slurm and sshd from scripts/test-env/slurm-up.sh:
 * what the conformance suite cannot say generically (GPUs, dependencies, dropped connections,
 * host keys, Slurm's own view of cancelled jobs).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTerminal, type JobState, type QueueBackend, STDOUT_FILE } from "../../src/backends/queue-backend.js";
import { SCRIPT_FILE, SECRET_ENV_FILE } from "../../src/backends/slurm/batch-script.js";
import type { SlurmBackend } from "../../src/backends/slurm/slurm-backend.js";
import { SshTransport } from "../../src/backends/slurm/ssh-transport.js";
import { HostKeyError } from "../../src/errors.js";
import { NASTY_VALUES } from "../conformance/queue-backend-conformance.js";
import { activeJobsOfRun, cancelRun, type SlurmTestEnv, slurmTestEnv, specFactory, testBackend, testClusterConfig } from "./slurm-test-env.js";

function waitFor(backend: QueueBackend, ids: readonly string[], ms = 90_000): Promise<Map<string, JobState>> {
  const states = new Map<string, JobState>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${ids.join(",")}: ${JSON.stringify([...states])}`));
    }, ms);
    const off = backend.onUpdate((id, state) => {
      states.set(id, state);
      if (
        ids.every((i) => {
          const s = states.get(i);
          return s && isTerminal(s);
        })
      ) {
        clearTimeout(timer);
        off();
        resolve(states);
      }
    });
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe("SlurmBackend on a real Slurm over SSH", () => {
  let env: SlurmTestEnv;
  let backend: SlurmBackend;
  let specs: Awaited<ReturnType<typeof specFactory>>;

  beforeAll(async () => {
    env = slurmTestEnv();
    backend = testBackend(env, "ssh");
    specs = await specFactory("sb");
  });
  afterAll(async () => {
    cancelRun(specs.runId);
    await backend.close();
    await specs.cleanup();
  });

  it("a child submitted after its parent ends starts after it (dependency order)", async () => {
    const stamp = ["sh", "-c", "date +%s%N; sleep 1; date +%s%N"];
    const parent = specs.makeSpec({ step: "parent", argv: stamp, queue: "oneshot-a100x1", gpus: 1 });
    const [p] = await backend.submit([parent]);
    const done = await waitFor(backend, [p!.backendJobId]);
    expect(done.get(p!.backendJobId)?.status).toBe("succeeded");
    const child = specs.makeSpec({ step: "child", argv: stamp, queue: "eval-h100x1", gpus: 1 });
    const [c] = await backend.submit([child]);
    expect((await waitFor(backend, [c!.backendJobId])).get(c!.backendJobId)?.status).toBe("succeeded");
    await backend.collect(p!.backendJobId);
    await backend.collect(c!.backendJobId);
    const times = async (dir: string) => (await readFile(join(dir, STDOUT_FILE), "utf8")).trim().split("\n").map(BigInt);
    const [, parentEnd] = await times(parent.attemptDir);
    const [childStart] = await times(child.attemptDir);
    expect(childStart! > parentEnd!).toBe(true);
  });

  it("a failing step (exit 3) is reported with its exit code, job id and log tail", async () => {
    const spec = specs.makeSpec({ step: "fails", argv: ["sh", "-c", "echo 'loading model'; echo 'Traceback: boom' >&2; exit 3"] });
    const [job] = await backend.submit([spec]);
    const id = job!.backendJobId;
    const state = (await waitFor(backend, [id])).get(id);
    expect(state).toMatchObject({ status: "failed", exitCode: 3, infrastructure: false });
    expect(state?.status === "failed" && state.reason).toContain(`Slurm job ${id}`);
    expect(await backend.logs(id, { stream: "stderr" })).toContain("Traceback: boom");
    await backend.collect(id);
    expect(await readFile(join(spec.attemptDir, "exit_code"), "utf8")).toBe("3\n");
  });

  it("cancel stops running and pending jobs: none left in squeue, secret files of never-started jobs removed", async () => {
    const secret = `never-started-${randomBytes(8).toString("hex")}`;
    // 8 CPUs, 4 per job: 2 run, 2 pend.
    const batch = Array.from({ length: 4 }, (_, i) => specs.makeSpec({ step: `c${i}`, argv: ["sleep", "300"], secretEnv: { TOKEN: secret } }));
    const ids = (await backend.submit(batch)).map((j) => j.backendJobId);
    const deadline = Date.now() + 30_000;
    let statuses: string[] = [];
    while (Date.now() < deadline) {
      statuses = [...(await backend.poll(ids)).values()].map((s) => s.status).sort();
      if (statuses.join() === "queued,queued,running,running") break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(statuses).toEqual(["queued", "queued", "running", "running"]);
    const ended = waitFor(backend, ids);
    await backend.cancel(ids);
    const states = await ended;
    for (const id of ids) expect(states.get(id)?.status).toBe("cancelled");
    expect(activeJobsOfRun(specs.runId)).toEqual([]);
    const leaks = [];
    for (const file of await filesUnder(join(env.jobDir, specs.runId))) {
      if ((await readFile(file)).includes(secret)) leaks.push(file);
    }
    expect(leaks).toEqual([]);
  });

  it("every job sees its own CUDA_VISIBLE_DEVICES", async () => {
    const batch = Array.from({ length: 4 }, (_, i) => specs.makeSpec({ step: `gpu${i}`, queue: "oneshot-a100x1", gpus: 1, argv: ["sh", "-c", 'echo "$CUDA_VISIBLE_DEVICES"; sleep 5'] }));
    const ids = (await backend.submit(batch)).map((j) => j.backendJobId);
    const states = await waitFor(backend, ids);
    for (const id of ids) expect(states.get(id)?.status).toBe("succeeded");
    const seen = [];
    for (let i = 0; i < ids.length; i++) {
      await backend.collect(ids[i]!);
      seen.push((await readFile(join(batch[i]!.attemptDir, STDOUT_FILE), "utf8")).trim());
    }
    expect(seen.sort()).toEqual(["0", "1", "2", "3"]);
  });

  it("200 parameter values full of shell metacharacters reach the job's argv exactly", async () => {
    const chars = [..."$`'\"\\;|&<>(){}[]*?~!#% \t\n=-+,.:@^", "ü", "✓"];
    const values = Array.from({ length: 200 }, (_, i) => {
      const base = NASTY_VALUES[i % NASTY_VALUES.length]!;
      const extra = Array.from({ length: 8 }, (_, k) => chars[(i * 7 + k * 13) % chars.length]).join("");
      return `++param${i}=${base}${extra}`;
    });
    const spec = specs.makeSpec({ step: "params", argv: ["sh", "-c", 'for a in "$@"; do printf "%s\\0" "$a"; done', "sh", ...values] });
    const [job] = await backend.submit([spec]);
    expect((await waitFor(backend, [job!.backendJobId])).get(job!.backendJobId)?.status).toBe("succeeded");
    await backend.collect(job!.backendJobId);
    const out = await readFile(join(spec.attemptDir, STDOUT_FILE), "utf8");
    expect(out.split("\0").slice(0, -1)).toEqual(values);
  });

  it("no secret value appears in the batch script or any file under the job directory", async () => {
    const secret = `tok-${randomBytes(16).toString("hex")}`;
    const spec = specs.makeSpec({
      step: "secret",
      argv: ["sh", "-c", '[ -n "$HF_TOKEN" ] && echo "token length ${#HF_TOKEN}"'],
      env: { PLAIN: "x" },
      secretEnv: { HF_TOKEN: secret },
    });
    const [job] = await backend.submit([spec]);
    expect((await waitFor(backend, [job!.backendJobId])).get(job!.backendJobId)?.status).toBe("succeeded");
    const remoteDir = join(env.jobDir, specs.runId, "secret", "a1");
    const script = await readFile(join(remoteDir, SCRIPT_FILE), "utf8");
    expect(script).toContain("export PLAIN=x");
    expect(script).not.toContain(secret);
    const files = await filesUnder(join(env.jobDir, specs.runId));
    expect(files.some((f) => f.endsWith(SECRET_ENV_FILE))).toBe(false);
    for (const file of files) expect((await readFile(file)).includes(secret), file).toBe(false);
    await backend.collect(job!.backendJobId);
    expect(await readFile(join(spec.attemptDir, STDOUT_FILE), "utf8")).toContain(`token length ${secret.length}`);
  });

  it("a job whose dependency can never be satisfied is cancelled and reported failed", async () => {
    const [parent] = await backend.submit([specs.makeSpec({ step: "dep-parent", argv: ["sh", "-c", "exit 1"] })]);
    const config = testClusterConfig(env, "ssh");
    const depBackend = testBackend(env, "ssh", {
      config: {
        ...config,
        queues: { ...config.queues, dependent: { partition: env.partitions.cpu, cpus: 1, nodes: 1, extraSbatch: [`--dependency=afterok:${parent!.backendJobId}`] } },
      },
    });
    try {
      const [child] = await depBackend.submit([specs.makeSpec({ step: "dep-child", queue: "dependent", argv: ["true"] })]);
      const state = (await waitFor(depBackend, [child!.backendJobId])).get(child!.backendJobId);
      expect(state).toMatchObject({ status: "failed", infrastructure: false });
      expect(state?.status === "failed" && state.reason).toContain("DependencyNeverSatisfied");
      expect(activeJobsOfRun(specs.runId)).not.toContain(child!.backendJobId);
    } finally {
      await depBackend.close();
    }
  });

  it("submit with reuseExisting (resume) returns the job Slurm already has under that name", async () => {
    const spec = specs.makeSpec({ step: "resume", argv: ["sleep", "30"] });
    const [first] = await backend.submit([spec]);
    const restarted = testBackend(env, "ssh");
    try {
      const fresh = specs.makeSpec({ step: "resume-new", argv: ["true"] });
      const again = await restarted.submit([spec, fresh], { reuseExisting: true });
      expect(again[0]?.backendJobId).toBe(first!.backendJobId);
      expect(again[1]?.backendJobId).not.toBe(first!.backendJobId);
    } finally {
      await backend.cancel([first!.backendJobId]);
      await restarted.close();
    }
  });

  it("a 3 s step limit on a 4 h queue: Slurm gets the smaller limit (a minute, its granularity) and the job fails at 3 s", async () => {
    const spec = specs.makeSpec({ step: "limit", queue: "cpu-small", argv: ["sleep", "60"], timeLimitSeconds: 3 });
    const started = Date.now();
    const [job] = await backend.submit([spec]);
    const id = job!.backendJobId;
    const state = (await waitFor(backend, [id], 60_000)).get(id);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(state).toMatchObject({ status: "failed", exitCode: 124, infrastructure: false });
    expect(state?.status === "failed" && state.reason).toMatch(/^time limit of 3s exceeded/);
    const shown = execFileSync("scontrol", ["show", "job", "-o", id], { encoding: "utf8" });
    expect(shown).toMatch(/TimeLimit=00:01:00 /);
    const script = await readFile(join(env.jobDir, specs.runId, "limit", "a1", SCRIPT_FILE), "utf8");
    expect(script).toContain("#SBATCH --time=00:00:03");
    expect(script).not.toContain("04:00:00");
  });

  it("one poll cycle is one remote exec with one squeue for many jobs", async () => {
    const batch = Array.from({ length: 10 }, (_, i) => specs.makeSpec({ step: `p${i}`, queue: "cpu-small", argv: ["true"] }));
    const ids = (await backend.submit(batch)).map((j) => j.backendJobId);
    await waitFor(backend, ids);
    const before = backend.stats();
    await backend.poll(ids);
    const after = backend.stats();
    expect(after.execs - before.execs).toBe(1);
    expect(after.squeue - before.squeue).toBe(1);
    expect(after.sacct - before.sacct).toBe(0);
  });
});

describe("SSH connection", () => {
  let env: SlurmTestEnv;
  let tmp: string;
  beforeAll(async () => {
    env = slurmTestEnv();
    tmp = await mkdtemp(join(tmpdir(), "gpu-dag-ssh-"));
  });
  afterAll(async () => {
    execFileSync("bash", [env.sshdCtl, "start"]);
    await rm(tmp, { recursive: true, force: true });
  });

  it("sshd stopped and restarted mid-run (by pid): the backend reconnects and the job completes", async () => {
    const specs = await specFactory("rc");
    const backend = testBackend(env, "ssh", { pollIntervals: { min: 200, max: 500 } });
    try {
      const spec = specs.makeSpec({ step: "survive", argv: ["sh", "-c", "sleep 5; echo survived"] });
      const [job] = await backend.submit([spec]);
      const id = job!.backendJobId;
      const done = waitFor(backend, [id], 120_000);
      const transport = backend.transport as SshTransport;
      expect(transport.connects).toBe(1);
      execFileSync("bash", [env.sshdCtl, "stop"]);
      await new Promise((r) => setTimeout(r, 2000));
      expect(transport.connected).toBe(false);
      execFileSync("bash", [env.sshdCtl, "start"]);
      const states = await done;
      expect(states.get(id)).toMatchObject({ status: "succeeded", exitCode: 0 });
      expect(transport.connects).toBeGreaterThanOrEqual(2);
      await backend.collect(id);
      expect(await readFile(join(spec.attemptDir, STDOUT_FILE), "utf8")).toContain("survived");
    } finally {
      execFileSync("bash", [env.sshdCtl, "start"]);
      cancelRun(specs.runId);
      await backend.close();
      await specs.cleanup();
    }
  });

  it("a changed host key is refused with HostKeyError, under strict and accept-new alike", async () => {
    const wrong = join(tmp, "known_hosts_wrong");
    // A real ed25519 key, but not the server's: the client key stands in for an impostor.
    const impostor = (await readFile(`${env.identityFile}.pub`, "utf8")).split(" ").slice(0, 2).join(" ");
    await writeFile(wrong, `[${env.host}]:${env.port} ${impostor}\n`);
    for (const hostKeyPolicy of ["strict", "accept-new"] as const) {
      const t = new SshTransport({ host: env.host, port: env.port, user: env.user, identityFile: env.identityFile, knownHosts: wrong, hostKeyPolicy });
      const error = await t.connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      await t.close();
      expect(error).toBeInstanceOf(HostKeyError);
      expect((error as HostKeyError).code).toBe("E_HOST_KEY");
      expect((error as HostKeyError).message).toMatch(/REFUSING .* does not match/);
      expect((error as HostKeyError).fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    }
  });

  it("an unknown host is refused under strict and recorded under accept-new", async () => {
    const empty = join(tmp, "known_hosts_empty");
    const strict = new SshTransport({ host: env.host, port: env.port, user: env.user, identityFile: env.identityFile, knownHosts: empty });
    await expect(strict.connect()).rejects.toBeInstanceOf(HostKeyError);
    await strict.close();
    const tofu = new SshTransport({ host: env.host, port: env.port, user: env.user, identityFile: env.identityFile, knownHosts: empty, hostKeyPolicy: "accept-new" });
    await tofu.connect();
    expect((await tofu.exec("echo ok")).stdout).toBe("ok");
    await tofu.close();
    const recorded = await readFile(empty, "utf8");
    const real = (await readFile(env.knownHosts, "utf8")).trim();
    expect(recorded.trim()).toBe(real);
    const again = new SshTransport({ host: env.host, port: env.port, user: env.user, identityFile: env.identityFile, knownHosts: empty });
    await again.connect();
    await again.close();
  });
});

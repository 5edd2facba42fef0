/**
 * SSH failures as users see them, on the real sshd and Slurm: a refusal (changed host key, wrong
 * key) is permanent — reported once, never retried, the run fails at once with a message naming
 * host, port, user and the fingerprints — while an outage is survived and shown
 * (`connection to … lost, retrying (attempt N, next in S s)`, then `connection … restored`) in the
 * run's events, journal and `gpu-dag status`.
 */
import { execFileSync } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshTransport } from "../../src/backends/slurm/ssh-transport.js";
import { HostKeyError, isPermanentError, SshAuthError } from "../../src/errors.js";
import { driveRun, FileStore, Pipeline, type RunEvent, Task } from "../../src/index.js";
import { gd } from "../unit/cli/cli-helpers.js";
import { pipelineClusterConfig, type SlurmTestEnv, slurmTestEnv } from "./slurm-test-env.js";

const count = (text: string, needle: string): number => text.split(needle).length - 1;

describe("SSH refusals are permanent", () => {
  let env: SlurmTestEnv;
  let tmp: string;
  let wrongKnownHosts: string;
  beforeAll(async () => {
    env = slurmTestEnv();
    tmp = await mkdtemp(join(tmpdir(), "gpu-dag-refusal-"));
    wrongKnownHosts = join(tmp, "known_hosts_wrong");
    // A real ed25519 key, but not the server's: the client key stands in for an impostor.
    const impostor = (await readFile(`${env.identityFile}.pub`, "utf8")).split(" ").slice(0, 2).join(" ");
    await writeFile(wrongKnownHosts, `[${env.host}]:${env.port} ${impostor}\n`);
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it("a changed host key: `gpu-dag run` fails at once, says so once (host, port, user, both fingerprints), retries nothing", async () => {
    const home = join(tmp, "home");
    const cluster = join(tmp, "cluster.yaml");
    await writeFile(
      cluster,
      [
        "executor: slurm",
        `ssh: { host: "${env.host}", port: ${env.port}, user: ${env.user}, identityFile: "${env.identityFile}", knownHosts: "${wrongKnownHosts}" }`,
        `jobDir: "${env.jobDir}"`,
        "queues:",
        `  cpu: { partition: ${env.partitions.cpu}, cpus: 1 }`,
      ].join("\n"),
    );
    const pipeline = join(tmp, "pipeline.yaml");
    const steps = Array.from({ length: 8 }, (_, i) => `  - { name: s${i}, baseTaskId: t, retryOnFailure: 2 }`);
    const children = Array.from({ length: 8 }, (_, i) => `  - { name: c${i}, baseTaskId: t, parents: [s${i}] }`);
    await writeFile(
      pipeline,
      [
        "projectName: p",
        "pipelineName: refused",
        "defaults: { executionQueue: cpu }",
        "tasks:",
        "  t: { type: custom, options: { command: [sh, -c, 'echo never'] } }",
        "steps:",
        ...steps,
        ...children,
      ].join("\n"),
    );
    const result = await gd(home, ["run", pipeline, "--cluster", cluster], { timeoutMs: 120_000 });
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(1);
    expect(result.ms).toBeLessThan(60_000);
    expect(count(output, "REFUSING"), output).toBe(1);
    const line = output.split("\n").find((l) => l.includes("REFUSING"))!;
    expect(line).toContain(`${env.user}@${env.host}:${env.port}`);
    expect(line).toMatch(/presented SHA256:[A-Za-z0-9+/]{43}/);
    expect(line).toMatch(/known_hosts has SHA256:[A-Za-z0-9+/]{43}/);
    expect(output).not.toMatch(/will retry/);

    const runId = /^run (\S+):/m.exec(result.stdout)![1]!;
    const journal = await readFile(join(home, "runs", runId, "journal.jsonl"), "utf8");
    expect(count(journal, "REFUSING")).toBe(1);
    const entries = journal
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; step?: string; attempt?: number; status?: string });
    expect(entries.filter((e) => e.type === "attempt-planned").every((e) => e.attempt === 1)).toBe(true);
    expect(entries.at(-1)).toMatchObject({ type: "run-finished", status: "failed" });

    const status = await gd(home, ["status", runId]);
    expect(status.stdout).toMatch(/\bfailed\b/);
    expect(count(status.stdout, "REFUSING")).toBe(1);
  });

  it("the transport refuses once: later calls fail with the same error without connecting again", async () => {
    const t = new SshTransport({ host: env.host, port: env.port, user: env.user, identityFile: env.identityFile, knownHosts: wrongKnownHosts });
    try {
      const errors = [];
      for (let i = 0; i < 3; i++)
        errors.push(
          await t.exec("true", { idempotent: true }).then(
            () => undefined,
            (e: unknown) => e,
          ),
        );
      expect(errors[0]).toBeInstanceOf(HostKeyError);
      expect(isPermanentError(errors[0])).toBe(true);
      expect(errors[1]).toBe(errors[0]);
      expect(errors[2]).toBe(errors[0]);
      expect(t.connectAttempts).toBe(1);
    } finally {
      await t.close();
    }
  });

  it("a key the server does not accept: SshAuthError at once (not after the reconnect timeout), naming user, host, port and key file", async () => {
    const stranger = join(tmp, "stranger_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", stranger]);
    const t = new SshTransport({ host: env.host, port: env.port, user: env.user, identityFile: stranger, knownHosts: env.knownHosts, reconnectTimeoutMs: 60_000 });
    const started = Date.now();
    try {
      const error = await t.exec("true", { idempotent: true }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SshAuthError);
      expect((error as SshAuthError).code).toBe("E_SSH_AUTH");
      expect(isPermanentError(error)).toBe(true);
      expect((error as Error).message).toContain(`${env.user}@${env.host}:${env.port}`);
      expect((error as Error).message).toContain(stranger);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(
        await t.exec("true").then(
          () => undefined,
          (e: unknown) => e,
        ),
      ).toBe(error);
      expect(t.connectAttempts).toBe(1);
    } finally {
      await t.close();
    }
  });
});

describe("a host key that changes mid-run", () => {
  let env: SlurmTestEnv;
  let home: string;
  beforeAll(async () => {
    env = slurmTestEnv();
    home = await mkdtemp(join(tmpdir(), "gpu-dag-rekey-"));
  });
  afterAll(async () => {
    execFileSync("bash", [env.sshdCtl, "start"]);
    await rm(home, { recursive: true, force: true });
  });

  it("the run fails at once (no hang, no retry) leaving its running job open; resume with the key fixed adopts it: it ran once", async () => {
    const knownHosts = join(home, "known_hosts");
    await copyFile(env.knownHosts, knownHosts);
    const base = pipelineClusterConfig(env);
    if (base.executor !== "slurm" || !base.ssh) throw new Error("expected a slurm config over ssh");
    const cluster = { ...base, ssh: { ...base.ssh, knownHosts } };
    const store = new FileStore({ home });
    const task = new Task({ projectName: "p", taskName: "once", command: ["sh", "-c", "sleep 8; echo ran-once"] });
    await task.createTask({ store });
    const pipeline = new Pipeline({ projectName: "p", pipelineName: "rekey" });
    pipeline.addStep({ name: "once", baseTaskId: task.id!, executionQueue: "services", retryOnFailure: 2 });
    const impostor = (await readFile(`${env.identityFile}.pub`, "utf8")).split(" ").slice(0, 2).join(" ");
    let rekey: Promise<void> | undefined;
    const started = Date.now();
    const first = await pipeline.executeLocally({
      home,
      cluster,
      onEvent: (event) => {
        if (event.type !== "step:start" || rekey) return;
        // The connection drops (sshd restarted) and the host now presents a key known_hosts does not list.
        rekey = (async () => {
          try {
            execFileSync("bash", [env.sshdCtl, "stop"]);
            await writeFile(knownHosts, `[${env.host}]:${env.port} ${impostor}\n`);
          } finally {
            execFileSync("bash", [env.sshdCtl, "start"]);
          }
        })();
      },
    });
    await rekey;
    expect(first.status).toBe("failed");
    expect(first.reason).toMatch(/^REFUSING to connect to /);
    expect(first.steps["once"]).toMatchObject({ status: "failed", attempts: 1 });
    expect(first.steps["once"]!.reason).toMatch(/no longer watched: .*E_HOST_KEY.*may still run/);
    expect(Date.now() - started).toBeLessThan(60_000);

    await copyFile(env.knownHosts, knownHosts);
    const second = await driveRun(first.runId, { store, home, resume: true });
    expect(second.status).toBe("succeeded");
    expect(second.steps["once"]).toMatchObject({ status: "succeeded", attempts: 1 });
    const out = await readFile(join(second.steps["once"]!.attemptDir!, "stdout.log"), "utf8");
    expect(out.split("ran-once").length - 1).toBe(1);
  });
});

describe("an SSH outage is shown", () => {
  let env: SlurmTestEnv;
  let home: string;
  beforeAll(async () => {
    env = slurmTestEnv();
    home = await mkdtemp(join(tmpdir(), "gpu-dag-outage-"));
  });
  afterAll(async () => {
    execFileSync("bash", [env.sshdCtl, "start"]);
    await rm(home, { recursive: true, force: true });
  });

  it("sshd stopped ~10 s mid-run: events, journal and `gpu-dag status` say the connection was lost (with attempt and delay) and restored", async () => {
    const store = new FileStore({ home });
    const task = new Task({ projectName: "p", taskName: "sleeper", command: ["sh", "-c", "sleep 14; echo done"] });
    await task.createTask({ store });
    const pipeline = new Pipeline({ projectName: "p", pipelineName: "outage" });
    pipeline.addStep({ name: "sleeper", baseTaskId: task.id!, executionQueue: "services" });
    const events: RunEvent[] = [];
    let outage: Promise<void> | undefined;
    const result = await pipeline.executeLocally({
      home,
      cluster: pipelineClusterConfig(env),
      onEvent: (event) => {
        events.push(event);
        if (event.type === "step:start" && !outage) {
          outage = (async () => {
            try {
              execFileSync("bash", [env.sshdCtl, "stop"]);
              await new Promise((r) => setTimeout(r, 10_000));
            } finally {
              execFileSync("bash", [env.sshdCtl, "start"]);
            }
          })();
        }
      },
    });
    await outage;
    expect(outage).toBeDefined();
    expect(result.status).toBe("succeeded");
    const notices = events.flatMap((e) => (e.type === "run:notice" ? [e.message] : []));
    const lost = notices.filter((m) => /^connection to gpudag@127\.0\.0\.1:2222 lost, retrying \(attempt \d+, next in \d+(\.\d)? s\)/.test(m.replace(env.user, "gpudag")));
    expect(lost.length, notices.join("\n")).toBeGreaterThanOrEqual(1);
    expect(lost.map((m) => Number(/attempt (\d+)/.exec(m)![1]))).toEqual(lost.map((_, i) => i + 1));
    expect(notices.at(-1)).toMatch(new RegExp(`^connection to ${env.user}@${env.host.replace(/\./g, "\\.")}:${env.port} restored after \\d+(\\.\\d)? s`));

    const journal = (await readFile(join(home, "runs", result.runId, "journal.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; message?: string });
    expect(journal.filter((e) => e.type === "backend-notice").map((e) => e.message)).toEqual(notices);

    const status = await gd(home, ["status", result.runId]);
    expect(status.stdout).toMatch(/connection to \S+ restored after/);
  });
});

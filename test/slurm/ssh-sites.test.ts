/**
 * A real site's way in: `ssh: { host: gd-login }` resolved through an ssh_config whose `gd-login`
 * sits behind the bastion sshd (`ProxyJump gd-bastion`), both host keys checked against
 * known_hosts, authentication by a real `ssh-agent` holding a passphrase-protected key — or by
 * that key's passphrase typed on a terminal. The bastion's log proves each connection went
 * through it; a changed bastion key is refused before anything reaches the login node.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ttyPassphrasePrompt } from "../../src/backends/slurm/ssh-passphrase.js";
import { SshTransport } from "../../src/backends/slurm/ssh-transport.js";
import { HostKeyError, isPermanentError, SshAuthError } from "../../src/errors.js";
import { FileStore, Pipeline, Task } from "../../src/index.js";
import { type BastionEnv, bastionUp, forwardsToLogin, type SiteFiles, startAgent, type TestAgent, writeSiteFiles } from "./bastion-env.js";
import { pipelineClusterConfig, type SlurmTestEnv, slurmTestEnv } from "./slurm-test-env.js";

const failure = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("a login node behind a bastion, by alias, with an ssh-agent", () => {
  let env: SlurmTestEnv;
  let bastion: BastionEnv;
  let tmp: string;
  let site: SiteFiles;
  let agent: TestAgent;

  beforeAll(async () => {
    env = slurmTestEnv();
    bastion = bastionUp();
    tmp = await mkdtemp(join(tmpdir(), "gpu-dag-site-"));
    site = await writeSiteFiles(tmp, env, bastion);
    agent = await startAgent(tmp, bastion);
  });
  afterAll(async () => {
    agent?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it("host: gd-login goes through the bastion (one forward in its log), as the users ssh_config says, with the agent's passphrase-protected key", async () => {
    const before = forwardsToLogin(bastion);
    // No identityFile anywhere and no key file in ~/.ssh: only the agent can log in.
    const t = new SshTransport({ host: "gd-login", configFile: site.sshConfig, agent: agent.socket, passphrasePrompt: null });
    try {
      const result = await t.exec("whoami", { idempotent: true });
      expect(result.stdout.trim()).toBe(env.user);
      expect(t.target).toBe(`${env.user}@${env.host}:${env.port}`);
      const hops = t.route!.hops;
      expect(hops.map((h) => [h.name, h.user, h.host, h.port])).toEqual([
        ["gd-bastion", bastion.user, bastion.host, bastion.port],
        ["gd-login", env.user, env.host, env.port],
      ]);
      expect(t.route!.keepaliveIntervalMs).toBe(5000);
      expect(t.route!.knownHostsFiles[0]).toBe(site.knownHosts);
    } finally {
      await t.close();
    }
    expect(forwardsToLogin(bastion)).toBe(before + 1);
  });

  it("SSH_AUTH_SOCK is the agent by default", async () => {
    const t = new SshTransport({ host: "gd-login", configFile: site.sshConfig, env: { ...process.env, SSH_AUTH_SOCK: agent.socket }, passphrasePrompt: null });
    try {
      expect((await t.exec("whoami", { idempotent: true })).stdout.trim()).toBe(env.user);
    } finally {
      await t.close();
    }
  });

  it("without the agent and without a terminal, the passphrase-protected key is refused at once, naming the hop, the user and each key tried", async () => {
    const t = new SshTransport({ host: "gd-login", configFile: site.sshConfig, agent: "none", identityFile: bastion.agentKey, passphrasePrompt: null, reconnectTimeoutMs: 60_000 });
    const started = Date.now();
    try {
      const error = await failure(t.exec("true", { idempotent: true }));
      expect(error).toBeInstanceOf(SshAuthError);
      expect(isPermanentError(error)).toBe(true);
      const message = (error as Error).message;
      expect(message).toContain(`${bastion.user}@${bastion.host}:${bastion.port} (jump host 1 of 1 on the way to ${env.user}@${env.host}:${env.port})`);
      expect(message).toContain(`user "${bastion.user}"`);
      expect(message).toContain("no ssh-agent");
      expect(message).toContain(`${bastion.agentKey}: passphrase-protected, not in the agent, and no terminal to ask for its passphrase`);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(t.connectAttempts).toBe(1);
    } finally {
      await t.close();
    }
  });

  it("the passphrase typed on a terminal (no agent): asked once for both hops, without echo, and never kept", async () => {
    const passphrase = (await readFile(bastion.agentKeyPassphraseFile, "utf8")).trim();
    const input = Object.assign(new PassThrough(), {
      isTTY: true,
      isRaw: false,
      setRawMode(mode: boolean) {
        input.isRaw = mode;
      },
    });
    let shown = "";
    let asked = 0;
    const output = {
      isTTY: true,
      write(text: string) {
        shown += text;
        if (text.startsWith("Enter passphrase")) {
          asked++;
          expect(input.isRaw).toBe(true);
          setTimeout(() => input.write(`${passphrase}\r`), 10);
        }
      },
    };
    const t = new SshTransport({ host: "gd-login", configFile: site.sshConfig, agent: "none", identityFile: bastion.agentKey, passphrasePrompt: ttyPassphrasePrompt(input, output) });
    try {
      expect((await t.exec("whoami", { idempotent: true })).stdout.trim()).toBe(env.user);
    } finally {
      await t.close();
    }
    expect(asked).toBe(1);
    expect(shown).toContain(`Enter passphrase for key '${bastion.agentKey}' (${bastion.user}@${bastion.host})`);
    expect(shown).not.toContain(passphrase);
    expect(input.isRaw).toBe(false);
  });

  it("a changed bastion key is refused (HostKeyError naming the bastion and the target behind it); nothing reaches the login node", async () => {
    const dir = await mkdtemp(join(tmp, "rekeyed-"));
    // A real ed25519 key, but not the bastion's.
    const impostor = (await readFile(`${env.identityFile}.pub`, "utf8")).split(" ").slice(0, 2).join(" ");
    const rekeyed = await writeSiteFiles(dir, env, bastion, { bastionKey: impostor });
    const before = forwardsToLogin(bastion);
    const t = new SshTransport({ host: "gd-login", configFile: rekeyed.sshConfig, agent: agent.socket, passphrasePrompt: null });
    try {
      const error = await failure(t.exec("true", { idempotent: true }));
      expect(error).toBeInstanceOf(HostKeyError);
      expect((error as HostKeyError).host).toBe(`[${bastion.host}]:${bastion.port}`);
      expect((error as Error).message).toMatch(
        new RegExp(`^REFUSING to connect to ${bastion.user}@${bastion.host.replace(/\./g, "\\.")}:${bastion.port} \\(jump host 1 of 1 on the way to ${env.user}@`),
      );
      expect((error as Error).message).toContain(rekeyed.knownHosts);
      expect(await failure(t.exec("true"))).toBe(error);
      expect(t.connectAttempts).toBe(1);
    } finally {
      await t.close();
    }
    expect(forwardsToLogin(bastion)).toBe(before);
  });

  it("a changed login-node key behind a good bastion is refused too, naming the login node and the bastion it came through", async () => {
    const dir = await mkdtemp(join(tmp, "rekeyed-login-"));
    const impostor = (await readFile(`${env.identityFile}.pub`, "utf8")).split(" ").slice(0, 2).join(" ");
    const rekeyed = await writeSiteFiles(dir, env, bastion, { loginKey: impostor });
    const t = new SshTransport({ host: "gd-login", configFile: rekeyed.sshConfig, agent: agent.socket, passphrasePrompt: null });
    try {
      const error = await failure(t.exec("true", { idempotent: true }));
      expect(error).toBeInstanceOf(HostKeyError);
      expect((error as HostKeyError).host).toBe(`[${env.host}]:${env.port}`);
      expect((error as Error).message).toContain(`REFUSING to connect to ${env.user}@${env.host}:${env.port} (via ${bastion.user}@${bastion.host}:${bastion.port})`);
    } finally {
      await t.close();
    }
  });

  it("a pipeline runs through the bastion from a cluster config naming only the alias", async () => {
    const home = await mkdtemp(join(tmp, "home-"));
    const base = pipelineClusterConfig(env);
    const cluster = { ...base, ssh: { host: "gd-login", configFile: site.sshConfig, agent: agent.socket } };
    const store = new FileStore({ home });
    const task = new Task({ projectName: "p", taskName: "hello", command: ["sh", "-c", "echo hello from $(hostname)"] });
    await task.createTask({ store });
    const pipeline = new Pipeline({ projectName: "p", pipelineName: "through-bastion" });
    pipeline.addStep({ name: "hello", baseTaskId: task.id!, executionQueue: "services" });
    const before = forwardsToLogin(bastion);
    const result = await pipeline.executeLocally({ home, cluster });
    expect(result.status, result.reason).toBe("succeeded");
    expect(result.steps["hello"]!.jobId).toMatch(/^\d+$/);
    expect(await readFile(join(result.steps["hello"]!.attemptDir!, "stdout.log"), "utf8")).toMatch(/^hello from /);
    // One connection for the whole run (planning opens none).
    expect(forwardsToLogin(bastion)).toBe(before + 1);
  });
});

/**
 * A real site's way in, on the test machine: the bastion sshd of `scripts/test-env/bastion-up.sh`
 * (started here when it is not up; idempotent) in front of the Slurm login sshd, an `ssh_config`
 * naming both by alias with `ProxyJump`, a known_hosts listing both host keys, and a real
 * `ssh-agent` holding the passphrase-protected key (added with `ssh-add`, the passphrase given
 * through `SSH_ASKPASS`). Only the agent, started by the test, is stopped by it (by its pid).
 *
 * @module
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { SlurmTestEnv } from "./slurm-test-env.js";

/** What bastion-up.sh printed. */
export interface BastionEnv {
  host: string;
  port: number;
  user: string;
  /** `ssh-ed25519 AAAA…` */
  hostKey: string;
  loginPort: number;
  agentKey: string;
  agentKeyPassphraseFile: string;
  log: string;
  pidFile: string;
}

const REPO = resolve(import.meta.dirname, "../..");

/** Starts the bastion if it is not up (needs root, as the slurm tier does) and returns its settings. */
export function bastionUp(): BastionEnv {
  const out = execFileSync("bash", [join(REPO, "scripts/test-env/bastion-up.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return JSON.parse(out) as BastionEnv;
}

/** Connections the bastion forwarded to the login sshd so far (its DEBUG1 log says each). */
export function forwardsToLogin(bastion: BastionEnv): number {
  if (!existsSync(bastion.log)) return 0;
  const needle = `target 127.0.0.1 port ${bastion.loginPort}`;
  return readFileSync(bastion.log, "utf8").split(needle).length - 1;
}

/** The files of a site's client side, in `dir`. */
export interface SiteFiles {
  sshConfig: string;
  knownHosts: string;
}

/**
 * Writes `ssh_config` (aliases `gd-bastion` and `gd-login`, the latter with `ProxyJump gd-bastion`
 * and `ServerAliveInterval 5`; no IdentityFile: keys come from the agent) and a known_hosts with
 * both host keys (`bastionKey` replaces the bastion's, to play a changed one).
 */
export async function writeSiteFiles(dir: string, env: SlurmTestEnv, bastion: BastionEnv, options: { bastionKey?: string; loginKey?: string } = {}): Promise<SiteFiles> {
  const sshConfig = join(dir, "ssh_config");
  const knownHosts = join(dir, "known_hosts");
  const loginKey = options.loginKey ?? readFileSync(env.knownHosts, "utf8").trim().split(/\s+/).slice(1, 3).join(" ");
  await writeFile(knownHosts, `[${env.host}]:${env.port} ${loginKey}\n[${bastion.host}]:${bastion.port} ${options.bastionKey ?? bastion.hostKey}\n`);
  await writeFile(
    sshConfig,
    [
      "# A site: the login node only through the bastion.",
      "Host gd-bastion",
      `  HostName ${bastion.host}`,
      `  Port ${bastion.port}`,
      `  User ${bastion.user}`,
      "Host gd-login",
      `  HostName ${env.host}`,
      `  Port ${env.port}`,
      `  User ${env.user}`,
      "  ProxyJump gd-bastion",
      "  ServerAliveInterval 5",
      "Host *",
      `  UserKnownHostsFile ${knownHosts}`,
      "  StrictHostKeyChecking yes",
      "",
    ].join("\n"),
  );
  return { sshConfig, knownHosts };
}

/** A real ssh-agent on a socket in `dir`, holding the bastion env's passphrase-protected key. */
export interface TestAgent {
  socket: string;
  stop(): void;
}

/** Starts `ssh-agent -D` (this test's own process) and adds the passphrase-protected key to it. */
export async function startAgent(dir: string, bastion: BastionEnv): Promise<TestAgent> {
  const socket = join(dir, "agent.sock");
  const agent: ChildProcess = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(socket)) throw new Error(`ssh-agent did not create ${socket}`);
  const askpass = join(dir, "askpass.sh");
  await writeFile(askpass, `#!/bin/sh\ncat '${bastion.agentKeyPassphraseFile}'\n`);
  await chmod(askpass, 0o700);
  execFileSync("ssh-add", [bastion.agentKey], {
    env: { ...process.env, SSH_AUTH_SOCK: socket, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force", DISPLAY: ":0" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  return {
    socket,
    stop: () => {
      if (agent.pid !== undefined && agent.exitCode === null) process.kill(agent.pid, "SIGTERM");
    },
  };
}

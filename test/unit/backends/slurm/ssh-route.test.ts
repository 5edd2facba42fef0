/**
 * The route as OpenSSH would resolve it from a real client config file (read with the ssh-config
 * package): aliases, Include, `Host *` defaults after specific blocks, ProxyJump chains with the
 * first jump host's own ProxyJump, tokens, the cluster config's values winning, ProxyCommand
 * refused.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseJump, resolveSshRoute } from "../../../../src/backends/slurm/ssh-route.js";
import { ConfigError } from "../../../../src/errors.js";

describe("resolveSshRoute", () => {
  let dir: string;
  let config: string;
  const env = { USER: "me", SSH_AUTH_SOCK: "/run/agent.sock", SITE: "hpc" };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gd-ssh-route-"));
    await mkdir(join(dir, "conf.d"));
    config = join(dir, "config");
    await writeFile(
      join(dir, "conf.d", "10-site.conf"),
      ["Host login", "  HostName login01.%h.example.org", "  User alice", "  ProxyJump bastion,inner:2022", "  IdentityFile ~/.ssh/site_%r", ""].join("\n"),
    );
    await writeFile(
      config,
      [
        `Include ${join(dir, "conf.d", "*.conf")}`,
        "Host bastion",
        "  HostName gw.example.org",
        "  User jump",
        "  ProxyJump outer",
        "  HostKeyAlias gw-key",
        "Host outer",
        "  HostName outer.example.org",
        "  Port 2200",
        "Host legacy",
        "  ProxyCommand nc %h %p",
        "Host agentless",
        "  IdentityAgent none",
        "  IdentitiesOnly yes",
        "  IdentityFile ${SITE}_key",
        "Host *",
        "  ServerAliveInterval 7",
        "  ServerAliveCountMax 4",
        "  User nobody",
        "  UserKnownHostsFile /etc/site/known_hosts",
        "  StrictHostKeyChecking accept-new",
        "",
      ].join("\n"),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("an alias: its blocks (from an Include), then Host *; the first jump host's own ProxyJump first", async () => {
    const route = await resolveSshRoute({ host: "login", configFile: config }, env);
    expect(route.hops.map((h) => [h.name, h.user, h.host, h.port, h.knownHostsName])).toEqual([
      ["outer", "nobody", "outer.example.org", 2200, "[outer.example.org]:2200"],
      ["bastion", "jump", "gw.example.org", 22, "gw-key"],
      ["inner", "nobody", "inner", 2022, "[inner]:2022"],
      ["login", "alice", "login01.login.example.org", 22, "login01.login.example.org"],
    ]);
    expect(route.hops.at(-1)!.identityFiles).toEqual([join(homedir(), ".ssh/site_alice")]);
    expect(route.keepaliveIntervalMs).toBe(7000);
    expect(route.keepaliveCountMax).toBe(4);
    expect(route.knownHostsFiles).toEqual(["/etc/site/known_hosts", "/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"]);
    expect(route.hostKeyPolicy).toBe("accept-new");
    expect(route.agent).toBe("/run/agent.sock");
    expect(route.configFiles).toEqual([config, join(dir, "conf.d", "10-site.conf")]);
  });

  it("the cluster config's values win; its key is offered to the jump hosts too; proxyJump none drops the jumps", async () => {
    const route = await resolveSshRoute(
      { host: "login", configFile: config, user: "bob", port: 2222, identityFile: "/keys/id", knownHosts: "/k/known", hostKeyPolicy: "strict", serverAliveInterval: 0, proxyJump: "gw.example.org" },
      env,
    );
    expect(route.hops.map((h) => `${h.user}@${h.host}:${h.port}`)).toEqual(["nobody@gw.example.org:22", "bob@login01.login.example.org:2222"]);
    expect(route.hops[0]!.identityFiles.at(-1)).toBe("/keys/id");
    expect(route.hops[1]!.identityFiles[0]).toBe("/keys/id");
    expect(route.hops[1]!.explicitIdentity).toBe(true);
    expect(route.knownHostsFiles).toEqual(["/k/known"]);
    expect(route.hostKeyPolicy).toBe("strict");
    expect(route.keepaliveIntervalMs).toBe(0);
    expect((await resolveSshRoute({ host: "login", configFile: config, proxyJump: "none" }, env)).hops).toHaveLength(1);
  });

  it("IdentityAgent none, IdentitiesOnly and ${VAR} in IdentityFile", async () => {
    const route = await resolveSshRoute({ host: "agentless", configFile: config }, env);
    expect(route.agent).toBeUndefined();
    expect(route.hops[0]!.identitiesOnly).toBe(true);
    expect(route.hops[0]!.identityFiles).toEqual(["hpc_key"]);
  });

  it("a host name no block names gets OpenSSH's defaults (and Host *); configFile none reads nothing", async () => {
    const plain = await resolveSshRoute({ host: "10.0.0.5", configFile: "none" }, { USER: "me" });
    expect(plain.hops).toHaveLength(1);
    expect(plain.hops[0]).toMatchObject({ host: "10.0.0.5", port: 22, readyTimeoutMs: 20_000 });
    expect(plain.hops[0]!.identityFiles).toEqual(["~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"].map((f) => join(homedir(), f.slice(2))));
    expect(plain.agent).toBeUndefined();
    expect(plain.configFiles).toEqual([]);
  });

  it("ProxyCommand is refused, naming the host and the file; an unreadable configFile is a ConfigError", async () => {
    const error = await resolveSshRoute({ host: "legacy", configFile: config }, env).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      `ssh.host "legacy" (ssh config ${config}, ${join(dir, "conf.d", "10-site.conf")}): ProxyCommand is not supported (gpu-dag runs no command to connect); use ProxyJump`,
    );
    const missing = await resolveSshRoute({ host: "x", configFile: join(dir, "nope") }, env).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as Error).message).toContain(`ssh.configFile ${join(dir, "nope")} cannot be read`);
  });

  it("parseJump reads OpenSSH's forms", () => {
    expect(parseJump("gw")).toEqual({ host: "gw" });
    expect(parseJump("me@gw:2200")).toEqual({ user: "me", host: "gw", port: 2200 });
    expect(parseJump("ssh://me@[::1]:22")).toEqual({ user: "me", host: "::1", port: 22 });
    expect(() => parseJump("a b")).toThrow(/cannot read jump host "a b"/);
  });
});

/**
 * From the `ssh` block of a cluster config (plus the OpenSSH client config) to the route the
 * transport takes: every hop — jump hosts first, the login node last — with its host name, port,
 * user and keys, as `ssh` itself would resolve them (ssh_config(5)):
 *
 * - `host` is looked up in the client config (`Host` patterns, `Match`, `Include`); a value set in
 *   the cluster config wins over the client config's, which wins over OpenSSH's default;
 * - `ProxyJump a,b` reaches `a` first (through `a`'s own `ProxyJump`, if it has one), then `b`
 *   through `a`, then the target through `b`; each jump host is looked up in the client config
 *   too (its `HostName`, `User`, `Port`, `IdentityFile`, `HostKeyAlias`), and is also offered the
 *   cluster config's `identityFile` after its own keys;
 * - `%h`, `%p`, `%r`, `%u`, `%n`, `%d`, `%l`, `%%`, `~` and `${VAR}` are expanded where OpenSSH
 *   expands them. `ProxyCommand` is refused (gpu-dag runs no command to connect).
 *
 * @module
 */
import { hostname, userInfo } from "node:os";
import { ConfigError } from "../../errors.js";
import { expandTilde, type HostOptions, option, optionList, readSshClientConfig, type SshClientConfig } from "./ssh-config-file.js";

/** One SSH connection of the route. */
export interface SshHop {
  /** The name the user wrote (an alias or a host name). */
  name: string;
  /** Where to connect (`HostName`). */
  host: string;
  port: number;
  user: string;
  /** Key files to try after the agent, in order (existing or not). */
  identityFiles: string[];
  /** True when the user named this key file in the cluster config: an unreadable one is an error. */
  explicitIdentity: boolean;
  /** `IdentitiesOnly yes`: of the agent's keys, offer only those of `identityFiles`. */
  identitiesOnly: boolean;
  /** The name known_hosts lists this hop's key under (`HostKeyAlias`, `host`, or `[host]:port`). */
  knownHostsName: string;
  /** Milliseconds to wait for this hop's handshake. */
  readyTimeoutMs: number;
}

/** The whole route and what every hop of it shares. */
export interface SshRoute {
  /** Jump hosts first, the login node last. */
  hops: SshHop[];
  /** known_hosts files, read in order; an `accept-new` key is added to the first. */
  knownHostsFiles: string[];
  hostKeyPolicy: "strict" | "accept-new";
  /** ssh-agent socket, when there is one to use. */
  agent: string | undefined;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** Client config files read (for messages). */
  configFiles: readonly string[];
}

/** What the cluster config says (every field optional but `host`); see `SshConfigSchema`. */
export interface SshRouteRequest {
  host: string;
  port?: number | undefined;
  user?: string | undefined;
  identityFile?: string | undefined;
  knownHosts?: string | undefined;
  hostKeyPolicy?: "strict" | "accept-new" | undefined;
  /** Seconds. */
  readyTimeout?: number | undefined;
  configFile?: string | undefined;
  proxyJump?: string | undefined;
  agent?: string | undefined;
  serverAliveInterval?: number | undefined;
  serverAliveCountMax?: number | undefined;
}

const MAX_JUMPS = 8;
const DEFAULT_IDENTITIES = ["~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"];

/** Resolves the route for `request`, reading the client config it names (or the default ones). */
export async function resolveSshRoute(request: SshRouteRequest, env: NodeJS.ProcessEnv = process.env): Promise<SshRoute> {
  return routeFrom(request, await readSshClientConfig(request.configFile), env);
}

/** {@link resolveSshRoute} with the client config already read. Pure but for the local user and host names. */
export function routeFrom(request: SshRouteRequest, config: SshClientConfig, env: NodeJS.ProcessEnv = process.env): SshRoute {
  const target = config.lookup(request.host);
  const where = `ssh.host "${request.host}"${config.files.length > 0 ? ` (ssh config ${config.files.join(", ")})` : ""}`;
  const proxyCommand = option(target, "proxycommand");
  const jumpSpec = request.proxyJump ?? option(target, "proxyjump");
  if (proxyCommand !== undefined && proxyCommand !== "none" && jumpSpec === undefined) {
    throw new ConfigError(`${where}: ProxyCommand is not supported (gpu-dag runs no command to connect); use ProxyJump`, { field: "ssh.host" });
  }
  const readyTimeoutMs = (request.readyTimeout ?? numberOption(target, "connecttimeout", where) ?? 20) * 1000;
  const targetHop = hopFrom(request.host, target, env, readyTimeoutMs, {
    port: request.port,
    user: request.user,
    identityFile: request.identityFile,
  });
  const jumps = jumpSpec === undefined || jumpSpec === "none" ? [] : jumpHops(jumpSpec, config, env, readyTimeoutMs, where, 0);
  // The cluster config's key is also offered to jump hosts, after their own (OpenSSH's -i is not).
  const explicitKey = request.identityFile === undefined ? undefined : expandTokens(request.identityFile, targetHop, env);
  for (const jump of jumps) if (explicitKey !== undefined && !jump.identityFiles.includes(explicitKey)) jump.identityFiles.push(explicitKey);
  const hops = [...jumps, targetHop];
  const knownHostsFiles =
    request.knownHosts !== undefined
      ? [expandTilde(request.knownHosts)]
      : [
          ...(optionList(target, "userknownhostsfile").length > 0 ? optionList(target, "userknownhostsfile") : ["~/.ssh/known_hosts", "~/.ssh/known_hosts2"]),
          ...(optionList(target, "globalknownhostsfile").length > 0 ? optionList(target, "globalknownhostsfile") : ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"]),
        ].map((f) => expandTokens(f, targetHop, env));
  const strict = option(target, "stricthostkeychecking")?.toLowerCase();
  const agentOption = request.agent ?? option(target, "identityagent");
  const agent = agentOption === "none" ? undefined : agentOption === undefined || agentOption === "SSH_AUTH_SOCK" ? env["SSH_AUTH_SOCK"] || undefined : expandTokens(agentOption, targetHop, env);
  return {
    hops,
    knownHostsFiles,
    hostKeyPolicy: request.hostKeyPolicy ?? (strict === "accept-new" || strict === "no" || strict === "off" ? "accept-new" : "strict"),
    agent,
    keepaliveIntervalMs: (request.serverAliveInterval ?? numberOption(target, "serveraliveinterval", where) ?? 10) * 1000,
    keepaliveCountMax: request.serverAliveCountMax ?? numberOption(target, "serveralivecountmax", where) ?? 3,
    configFiles: config.files,
  };
}

/** The hops of a `ProxyJump` value, the first one's own jumps first. */
function jumpHops(spec: string, config: SshClientConfig, env: NodeJS.ProcessEnv, readyTimeoutMs: number, where: string, depth: number): SshHop[] {
  if (depth >= MAX_JUMPS) throw new ConfigError(`${where}: ProxyJump chain longer than ${MAX_JUMPS} hops (a loop?)`, { field: "ssh.proxyJump" });
  const hops: SshHop[] = [];
  spec.split(",").forEach((part, index) => {
    const jump = parseJump(part.trim(), where);
    const options = config.lookup(jump.host);
    if (index === 0) {
      // Only the first jump host is reached on its own, so only its own ProxyJump applies (as in OpenSSH).
      const own = option(options, "proxyjump");
      if (own !== undefined && own !== "none") hops.push(...jumpHops(own, config, env, readyTimeoutMs, where, depth + 1));
    }
    hops.push(hopFrom(jump.host, options, env, (numberOption(options, "connecttimeout", where) ?? readyTimeoutMs / 1000) * 1000, { port: jump.port, user: jump.user }));
  });
  return hops;
}

/** `[user@]host[:port]`, `ssh://[user@]host[:port]`, IPv6 in brackets. */
export function parseJump(text: string, where = "ssh.proxyJump"): { user?: string; host: string; port?: number } {
  const match = /^(?:ssh:\/\/)?(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s/]+)(?::(\d+))?\/?$/.exec(text);
  if (!match) throw new ConfigError(`${where}: cannot read jump host "${text}" (expected [user@]host[:port])`, { field: "ssh.proxyJump" });
  const [, user, host = "", port] = match;
  return { host: host.replace(/^\[(.*)\]$/, "$1"), ...(user !== undefined ? { user } : {}), ...(port !== undefined ? { port: Number(port) } : {}) };
}

function hopFrom(
  name: string,
  options: HostOptions,
  env: NodeJS.ProcessEnv,
  readyTimeoutMs: number,
  explicit: { port?: number | undefined; user?: string | undefined; identityFile?: string | undefined },
): SshHop {
  const configured = option(options, "hostname");
  const host = configured === undefined ? name : configured.replace(/%(.)/g, (m, c: string) => (c === "h" ? name : c === "%" ? "%" : m));
  const port = explicit.port ?? numberOption(options, "port", `host "${name}"`) ?? 22;
  const user = explicit.user ?? option(options, "user") ?? localUser(env);
  const alias = option(options, "hostkeyalias");
  const hop: SshHop = {
    name,
    host,
    port,
    user,
    identityFiles: [],
    explicitIdentity: explicit.identityFile !== undefined,
    identitiesOnly: option(options, "identitiesonly")?.toLowerCase() === "yes",
    knownHostsName: alias ?? (port === 22 ? host : `[${host}]:${port}`),
    readyTimeoutMs,
  };
  const fromConfig = optionList(options, "identityfile").filter((f) => f !== "none");
  const files = [...(explicit.identityFile !== undefined ? [explicit.identityFile] : []), ...(fromConfig.length > 0 ? fromConfig : explicit.identityFile !== undefined ? [] : DEFAULT_IDENTITIES)];
  hop.identityFiles = [...new Set(files.map((f) => expandTokens(f, hop, env)))];
  return hop;
}

/** OpenSSH's `%` tokens, `~` and `${VAR}` in a path option. */
export function expandTokens(text: string, hop: Pick<SshHop, "name" | "host" | "port" | "user">, env: NodeJS.ProcessEnv): string {
  const home = expandTilde("~");
  const tokens: Record<string, string> = { "%": "%", h: hop.host, p: String(hop.port), r: hop.user, n: hop.name, u: localUser(env), d: home, l: hostname().split(".")[0] ?? "" };
  const expanded = text.replace(/%(.)/g, (m, c: string) => tokens[c] ?? m).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, v: string) => env[v] ?? m);
  return expandTilde(expanded);
}

function numberOption(options: HostOptions, name: string, where: string): number | undefined {
  const value = option(options, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${where}: ${name} "${value}" is not a number`, { field: "ssh.host" });
  return n;
}

function localUser(env: NodeJS.ProcessEnv): string {
  try {
    return userInfo().username;
  } catch {
    return env["USER"] ?? env["LOGNAME"] ?? "root";
  }
}

/** `user@host:port` of a hop, for messages and notices. */
export function hopTarget(hop: Pick<SshHop, "user" | "host" | "port">): string {
  return `${hop.user}@${hop.host}:${hop.port}`;
}

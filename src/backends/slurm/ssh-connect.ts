/**
 * Opening the route's connections, one hop after the other: a TCP socket to the first hop
 * (no-delay, see ssh-socket.ts), then for each next hop a `direct-tcpip` channel through the one
 * before (what OpenSSH's `ProxyJump` does with `ssh -W`), each with its own SSH handshake, its
 * host key checked against known_hosts under its own name, and its own authentication. The last
 * client is the login node's.
 *
 * A refusal names the hop: a jump host's host key or keys are reported as the jump host's, with
 * the target it was on the way to.
 *
 * @module
 */
import type { Duplex } from "node:stream";
import type { GpuDagError } from "../../errors.js";
import { addKnownHostNamed } from "./known-hosts.js";
import { hostKeyVerifier } from "./ssh-auth.js";
import { type DecryptedKeys, HopAuth } from "./ssh-keys.js";
import type { PassphrasePrompt } from "./ssh-passphrase.js";
import { hopTarget, type SshHop, type SshRoute } from "./ssh-route.js";
import { openSocket } from "./ssh-socket.js";
import type { Ssh2Client, Ssh2Module } from "./ssh2-module.js";

/** What connecting a route needs besides the route. */
export interface ConnectContext {
  ssh2: Ssh2Module;
  route: SshRoute;
  /** known_hosts text of every file of the route, concatenated. */
  knownText: string;
  decrypted: DecryptedKeys;
  prompt: PassphrasePrompt | undefined;
}

/** A connection that failed for good (host key, keys): thrown as it is, never retried. */
export class PermanentConnectError extends Error {
  readonly error: GpuDagError;
  constructor(error: GpuDagError) {
    super(error.message);
    this.error = error;
  }
}

/** The connected clients, jump hosts first; the last is the login node's. */
export async function connectRoute(context: ConnectContext): Promise<Ssh2Client[]> {
  const { hops } = context.route;
  const first = hops[0] as SshHop;
  const clients: Ssh2Client[] = [];
  try {
    let sock: Duplex = await openSocket(first.host, first.port, first.readyTimeoutMs);
    for (const [index, hop] of hops.entries()) {
      const client = await connectHop(context, hop, index, sock);
      clients.push(client);
      const next = hops[index + 1];
      if (next) sock = await forward(client, hop, next);
    }
    return clients;
  } catch (error) {
    for (const client of clients.reverse()) client.end();
    throw error;
  }
}

/** ` (jump host 1 of 2 on the way to me@login:22)` for a jump host, ` (via j@bastion:22)` for the target behind one. */
export function roleOf(route: SshRoute, index: number): string {
  const last = route.hops.length - 1;
  const target = route.hops[last] as SshHop;
  if (index < last) return ` (jump host ${index + 1} of ${last} on the way to ${hopTarget(target)})`;
  return last > 0 ? ` (via ${route.hops.slice(0, last).map(hopTarget).join(", ")})` : "";
}

async function connectHop(context: ConnectContext, hop: SshHop, index: number, sock: Duplex): Promise<Ssh2Client> {
  const { ssh2, route } = context;
  const target = hopTarget(hop);
  const role = roleOf(route, index);
  const auth = await HopAuth.prepare({ ssh2, hop, agent: route.agent, decrypted: context.decrypted, prompt: context.prompt, target, role }).catch((error: unknown) => {
    sock.destroy();
    throw new PermanentConnectError(error as GpuDagError);
  });
  const hostKey = hostKeyVerifier({
    knownText: context.knownText,
    knownHostsFile: route.knownHostsFiles.join(", ") || "(no known_hosts file)",
    name: hop.knownHostsName,
    policy: route.hostKeyPolicy,
    target,
    role,
  });
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error & { level?: string }) => {
      // The agent failing mid-handshake is one method failing: ssh2 goes on with the next one.
      if (error.level === "agent") return;
      cleanup();
      sock.destroy();
      const refusal = hostKey.refusal();
      if (refusal) reject(new PermanentConnectError(refusal));
      else if (error.level === "client-authentication") reject(new PermanentConnectError(auth.failure(error)));
      else reject(error);
    };
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      const refusal = hostKey.refusal();
      reject(refusal ? new PermanentConnectError(refusal) : new Error(`connection to ${target}${role} closed during the handshake`));
    };
    const cleanup = () => {
      client.removeListener("error", onError);
      client.removeListener("ready", onReady);
      client.removeListener("close", onClose);
    };
    client.on("error", onError).on("ready", onReady).on("close", onClose);
    client.connect({
      sock,
      host: hop.host,
      port: hop.port,
      username: hop.user,
      readyTimeout: hop.readyTimeoutMs,
      keepaliveInterval: route.keepaliveIntervalMs,
      keepaliveCountMax: route.keepaliveCountMax,
      hostVerifier: hostKey.verify,
      authHandler: auth.handler,
    });
  });
  // Errors after the handshake (a dropped connection) are seen by the transport through `close`.
  client.on("error", () => {});
  const newKey = hostKey.newKey();
  if (newKey && route.knownHostsFiles[0]) await addKnownHostNamed(route.knownHostsFiles[0], hop.knownHostsName, newKey);
  return client;
}

/** A `direct-tcpip` channel from `via` to the next hop (resolved by `via`'s sshd). */
function forward(via: Ssh2Client, hop: SshHop, next: SshHop): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    via.forwardOut("127.0.0.1", 0, next.host, next.port, (error, stream) => {
      if (error) reject(new Error(`jump host ${hopTarget(hop)} cannot open a connection to ${next.host}:${next.port}: ${error.message}`, { cause: error }));
      else resolve(stream);
    });
  });
}

/**
 * {@link Transport} over ONE persistent SSH connection (node-ssh / ssh2), shared by every exec
 * and file transfer of a backend.
 *
 * - The route is resolved as OpenSSH does (ssh-route.ts): `host` may be an alias of
 *   `~/.ssh/config`, whose `HostName`, `User`, `Port`, `IdentityFile`, `ProxyJump`,
 *   `ServerAlive*`, … apply; through `ProxyJump` the connection goes through each jump host in
 *   turn (ssh-connect.ts), every hop's host key checked against known_hosts.
 * - Authentication by the ssh-agent, then key files; a passphrase-protected key through the agent
 *   or a passphrase asked on the terminal, never stored (ssh-keys.ts).
 * - The TCP socket is opened by us (ssh-socket.ts) with `setNoDelay(true)`: without it each small
 *   exec waits on Nagle's algorithm (100 sequential sbatch: ~5 s → ~0.9 s).
 * - A changed host key is refused with {@link HostKeyError}; keys the server does not accept (or
 *   that cannot be read) with `SshAuthError` naming the hop, the user and every key or agent
 *   tried. Both are permanent: the transport never tries again, every later call fails with the
 *   same error, and one `connection-refused` notice says so.
 * - Keepalives (`ServerAliveInterval`, default 10 s, × `ServerAliveCountMax`, default 3) find a
 *   dead connection; the next call then reconnects with exponential backoff and jitter, and says
 *   so: a `connection-lost` notice per failed attempt (attempt number, next delay), one
 *   `connection-restored` when it is back (see `BackendNotice`).
 *   Idempotent calls are re-run after a drop; others fail with {@link BackendError} if the drop
 *   happened after the command may have started (callers make those safe to retry themselves).
 * - node-ssh, ssh2 (22 modules) and ssh-config are loaded on the first connection, not on import:
 *   `import "gpu-dag"` stays free of them for users who never reach a cluster over SSH.
 *
 * The parts live beside it: the route (ssh-route.ts, ssh-config-file.ts), the hops
 * (ssh-connect.ts), host keys (ssh-auth.ts), keys (ssh-keys.ts, ssh-passphrase.ts), notices and
 * backoff (ssh-outage.ts), the socket (ssh-socket.ts), SFTP reads and writes (ssh-sftp.ts).
 *
 * @module
 */

import type { NodeSSH } from "node-ssh";
import PQueue from "p-queue";
import { BackendError, GpuDagError } from "../../errors.js";
import type { BackendNoticeListener } from "../queue-backend.js";
import { readKnownHosts } from "./known-hosts.js";
import { connectRoute, PermanentConnectError } from "./ssh-connect.js";
import type { DecryptedKeys } from "./ssh-keys.js";
import { backoffDelay, ConnectionNotices } from "./ssh-outage.js";
import { type PassphrasePrompt, ttyPassphrasePrompt } from "./ssh-passphrase.js";
import { hopTarget, resolveSshRoute, type SshRoute, type SshRouteRequest } from "./ssh-route.js";
import { type Sftp, sftpRead, sftpWrite } from "./ssh-sftp.js";
import { isConnectionError } from "./ssh-socket.js";
import type { Ssh2Client } from "./ssh2-module.js";
import { loadSsh2 } from "./ssh2-module.js";
import { ConnectionDroppedError, type ExecOptions, type ExecResult, type ReadFileOptions, type RemoteFile, type Transport } from "./transport.js";

/** Connection settings (the `ssh` block of a Slurm cluster config, plus tuning). */
export interface SshTransportOptions extends SshRouteRequest {
  /** How long to keep trying to reconnect before failing a call, in ms (default 120 000). */
  reconnectTimeoutMs?: number;
  /** First backoff delay in ms (default 200); doubles per failed attempt, up to 5 s, ±50 % jitter. */
  backoffBaseMs?: number;
  /** Most commands running at once on the connection (default 6, well under sshd's MaxSessions of 10). */
  maxChannels?: number;
  /** How to ask for a key's passphrase (default: on the terminal when there is one; `null`: never ask). */
  passphrasePrompt?: PassphrasePrompt | null | undefined;
  /** Environment for `SSH_AUTH_SOCK`, `${VAR}` in paths and the local user (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

class DroppedError extends Error {}

/** SSH transport; see the module comment. */
export class SshTransport implements Transport {
  readonly kind = "ssh";
  /** How many times a connection was established (1 + reconnects). */
  connects = 0;
  /** How many commands were executed. */
  execs = 0;
  /** How many connection attempts were made (successful or not). */
  connectAttempts = 0;
  readonly #options: SshTransportOptions;
  #ssh: NodeSSH | undefined;
  /** The jump hosts' clients of the current connection (closed with it). */
  #jumps: Ssh2Client[] = [];
  #connecting: Promise<NodeSSH> | undefined;
  #sftp: Promise<Sftp> | undefined;
  #closed = false;
  readonly #channels: PQueue;
  /** The permanent refusal, once there was one: every later call fails with it. */
  #refusal: GpuDagError | undefined;
  readonly #notices: ConnectionNotices;
  #route: SshRoute | undefined;
  readonly #decrypted: DecryptedKeys = new Map();

  constructor(options: SshTransportOptions) {
    this.#options = options;
    this.#channels = new PQueue({ concurrency: options.maxChannels ?? 6 });
    this.#notices = new ConnectionNotices(() => this.target);
  }

  /** `user@host:port` of the login node (as configured until the route is resolved). */
  get target(): string {
    const last = this.#route?.hops.at(-1);
    if (last) return hopTarget(last);
    const { user, host, port } = this.#options;
    return `${user === undefined ? "" : `${user}@`}${host}:${port ?? 22}`;
  }

  /** The route of the last connection attempt (hops, known_hosts files, agent), once resolved. */
  get route(): SshRoute | undefined {
    return this.#route;
  }

  /** Connects now (otherwise the first call does). Throws {@link HostKeyError} on a bad host key. */
  async connect(): Promise<void> {
    await this.#connection();
  }

  /** Listens for connection notices (lost, restored, refused); returns the unsubscriber. */
  onNotice(listener: BackendNoticeListener): () => void {
    return this.#notices.onNotice(listener);
  }

  /** True while a connection is up. */
  get connected(): boolean {
    return this.#ssh?.isConnected() ?? false;
  }

  async #connection(): Promise<NodeSSH> {
    if (this.#closed) throw new BackendError("slurm", `SSH transport to ${this.target} is closed`);
    if (this.#refusal) throw this.#refusal;
    if (this.#ssh?.isConnected()) return this.#ssh;
    this.#connecting ??= this.#connectWithBackoff().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connectWithBackoff(): Promise<NodeSSH> {
    const deadline = Date.now() + (this.#options.reconnectTimeoutMs ?? 120_000);
    const base = this.#options.backoffBaseMs ?? 200;
    for (let attempt = 0; ; attempt++) {
      try {
        const ssh = await this.#connectOnce();
        this.#notices.connected();
        return ssh;
      } catch (error) {
        if (this.#closed) throw error;
        // A refused host key or key, or an ssh config that cannot work: permanent.
        const refusal = error instanceof PermanentConnectError ? error.error : error instanceof GpuDagError ? error : undefined;
        if (refusal) {
          this.#refusal = refusal;
          this.#notices.refused(refusal);
          throw refusal;
        }
        if (Date.now() >= deadline) {
          throw new BackendError("slurm", `cannot connect to ${this.target}: ${(error as Error).message}`, { cause: error });
        }
        const delay = backoffDelay(base, attempt, deadline);
        this.#notices.attemptFailed(error, delay);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async #connectOnce(): Promise<NodeSSH> {
    this.connectAttempts++;
    const env = this.#options.env ?? process.env;
    this.#route ??= await resolveSshRoute(this.#options, env);
    const route = this.#route;
    const knownText = (await Promise.all(route.knownHostsFiles.map(readKnownHosts))).join("\n");
    const ssh2 = await loadSsh2();
    const { NodeSSH } = await import("node-ssh");
    const prompt = this.#options.passphrasePrompt === null ? undefined : (this.#options.passphrasePrompt ?? ttyPassphrasePrompt());
    const clients = await connectRoute({ ssh2, route, knownText, decrypted: this.#decrypted, prompt });
    const client = clients.at(-1) as Ssh2Client;
    const jumps = clients.slice(0, -1);
    // node-ssh's exec and SFTP helpers on the login node's client, connected above.
    const ssh = new NodeSSH();
    ssh.connection = client as unknown as NonNullable<NodeSSH["connection"]>;
    const gone = () => {
      if (ssh.connection === (client as unknown)) ssh.connection = null;
      if (this.#ssh === ssh) {
        this.#ssh = undefined;
        this.#sftp = undefined;
        for (const jump of this.#jumps) jump.end();
        this.#jumps = [];
      }
    };
    client.on("close", gone).on("end", gone);
    // A jump host's connection dropping takes the login node's down with it.
    for (const jump of jumps) jump.on("close", () => client.end());
    this.#ssh = ssh;
    this.#jumps = jumps;
    this.#sftp = undefined;
    this.connects++;
    return ssh;
  }

  /** Runs an operation on the connection; on a drop, reconnects and re-runs it when it is idempotent. */
  async #withRetry<T>(what: string, idempotent: boolean, op: (ssh: NodeSSH) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const ssh = await this.#connection();
      try {
        return await op(ssh);
      } catch (error) {
        if (this.#closed) throw error;
        const dropped = error instanceof DroppedError || !ssh.isConnected() || isConnectionError(error);
        if (!dropped) throw error;
        if (this.#ssh === ssh) {
          this.#ssh = undefined;
          this.#sftp = undefined;
          ssh.dispose();
          for (const jump of this.#jumps) jump.end();
          this.#jumps = [];
        }
        if (!idempotent || attempt >= 5) {
          throw new ConnectionDroppedError(`connection to ${this.target} dropped during ${what}`, { cause: error });
        }
      }
    }
  }

  /**
   * Runs a command through the remote user's shell. Each exec opens an SSH channel; sshd refuses
   * more than `MaxSessions` (10 by default) at once on one connection, so execs wait in a queue
   * bounded below that (e.g. a resumed controller adopting dozens of jobs at once).
   */
  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.#channels.add(async () => {
      // sshd may still count a session our side already saw close: a refused channel is retried
      // briefly rather than failing the command (it never started, so this is safe to repeat).
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.#exec(command, options);
        } catch (error) {
          const refused = /Channel open failure/i.test(String((error as Error).cause ?? error));
          if (!refused || attempt >= 20) throw error;
          await new Promise((r) => setTimeout(r, 25 * (attempt + 1)));
        }
      }
    });
  }

  #exec(command: string, options: ExecOptions): Promise<ExecResult> {
    return this.#withRetry(`"${command.slice(0, 60)}"`, options.idempotent ?? false, async (ssh) => {
      this.execs++;
      const result = await ssh.execCommand(command, options.stdin === undefined ? {} : { stdin: options.stdin });
      if (result.code === null && result.signal === null && !ssh.isConnected()) throw new DroppedError("dropped");
      return { stdout: result.stdout, stderr: result.stderr, code: result.code };
    });
  }

  async #sftpOf(ssh: NodeSSH): Promise<Sftp> {
    const request = async (): Promise<Sftp> => (await ssh.requestSFTP()) as unknown as Sftp;
    if (this.#ssh !== ssh) return request();
    this.#sftp ??= request();
    try {
      return await this.#sftp;
    } catch (error) {
      this.#sftp = undefined;
      throw error;
    }
  }

  /** Reads a file (or its tail) over SFTP. */
  readFile(path: string, options: ReadFileOptions = {}): Promise<RemoteFile | undefined> {
    return this.#withRetry(`read ${path}`, true, async (ssh) => {
      return sftpRead(await this.#sftpOf(ssh), path, options);
    });
  }

  /** Writes a file over SFTP with the given mode. */
  writeFile(path: string, data: string | Buffer, options: { mode?: number } = {}): Promise<void> {
    return this.#withRetry(`write ${path}`, true, async (ssh) => {
      await sftpWrite(await this.#sftpOf(ssh), path, data, options.mode ?? 0o644);
    });
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    const ssh = this.#ssh;
    this.#ssh = undefined;
    this.#sftp = undefined;
    ssh?.dispose();
    for (const jump of this.#jumps) jump.end();
    this.#jumps = [];
  }
}

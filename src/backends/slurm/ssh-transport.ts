/**
 * {@link Transport} over ONE persistent SSH connection (node-ssh / ssh2), shared by every exec
 * and file transfer of a backend.
 *
 * - The TCP socket is opened by us (ssh-socket.ts) with `setNoDelay(true)`: without it each small exec waits on
 *   Nagle's algorithm (100 sequential sbatch: ~5 s → ~0.9 s).
 * - The host key is checked against known_hosts (`strict` by default; `accept-new` records unknown
 *   hosts). A changed key is refused with {@link HostKeyError}; a key the server does not accept
 *   (or cannot be read) with `SshAuthError`. Both are permanent: the transport never tries
 *   again, every later call fails with the same error, and one `connection-refused` notice says so.
 * - When the connection drops, the next call reconnects with exponential backoff and jitter, and
 *   says so: a `connection-lost` notice per failed attempt (attempt number, next delay), one
 *   `connection-restored` when it is back (see `BackendNotice`).
 *   Idempotent calls are re-run after a drop; others fail with {@link BackendError} if the drop
 *   happened after the command may have started (callers make those safe to retry themselves).
 * - node-ssh (and ssh2 under it, 22 modules) is loaded on the first connection, not on import:
 *   `import "gpu-dag"` stays free of it for users who never reach a cluster over SSH.
 *
 * The parts live beside it: host key and key checks (ssh-auth.ts), notices and backoff
 * (ssh-outage.ts), the socket (ssh-socket.ts), SFTP reads and writes (ssh-sftp.ts).
 *
 * @module
 */

import type { NodeSSH } from "node-ssh";
import PQueue from "p-queue";
import { BackendError, type GpuDagError, HostKeyError } from "../../errors.js";
import type { BackendNoticeListener } from "../queue-backend.js";
import { addKnownHost, readKnownHosts } from "./known-hosts.js";
import { expandHome, hostKeyVerifier, permanentRefusal, readPrivateKey } from "./ssh-auth.js";
import { backoffDelay, ConnectionNotices } from "./ssh-outage.js";
import { type Sftp, sftpRead, sftpWrite } from "./ssh-sftp.js";
import { isConnectionError, openSocket } from "./ssh-socket.js";
import { ConnectionDroppedError, type ExecOptions, type ExecResult, type ReadFileOptions, type RemoteFile, type Transport } from "./transport.js";

/** Connection settings (the `ssh` block of a Slurm cluster config, plus tuning). */
export interface SshTransportOptions {
  host: string;
  port?: number;
  user: string;
  /** Private key file (default: `~/.ssh/id_ed25519`, then `~/.ssh/id_rsa`). */
  identityFile?: string;
  /** known_hosts file (default `~/.ssh/known_hosts`). */
  knownHosts?: string;
  /** `strict` (default) refuses unknown hosts; `accept-new` records them. Changed keys are always refused. */
  hostKeyPolicy?: "strict" | "accept-new";
  /** Seconds to wait for one connection attempt (default 20). */
  readyTimeout?: number;
  /** How long to keep trying to reconnect before failing a call, in ms (default 120 000). */
  reconnectTimeoutMs?: number;
  /** First backoff delay in ms (default 200); doubles per failed attempt, up to 5 s, ±50 % jitter. */
  backoffBaseMs?: number;
  /** Most commands running at once on the connection (default 6, well under sshd's MaxSessions of 10). */
  maxChannels?: number;
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
  #connecting: Promise<NodeSSH> | undefined;
  #sftp: Promise<Sftp> | undefined;
  #closed = false;
  readonly #channels: PQueue;
  /** The permanent refusal, once there was one: every later call fails with it. */
  #refusal: GpuDagError | undefined;
  readonly #notices: ConnectionNotices;

  constructor(options: SshTransportOptions) {
    this.#options = options;
    this.#channels = new PQueue({ concurrency: options.maxChannels ?? 6 });
    this.#notices = new ConnectionNotices(this.#target);
  }

  get #target(): string {
    return `${this.#options.user}@${this.#options.host}:${this.#options.port ?? 22}`;
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
    if (this.#closed) throw new BackendError("slurm", `SSH transport to ${this.#target} is closed`);
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
        const refusal = permanentRefusal(error, this.#target, this.#options.identityFile);
        if (refusal) {
          this.#refusal = refusal;
          this.#notices.refused(refusal);
          throw refusal;
        }
        if (Date.now() >= deadline) {
          throw new BackendError("slurm", `cannot connect to ${this.#target}: ${(error as Error).message}`, { cause: error });
        }
        const delay = backoffDelay(base, attempt, deadline);
        this.#notices.attemptFailed(error, delay);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async #connectOnce(): Promise<NodeSSH> {
    const { host, user } = this.#options;
    const port = this.#options.port ?? 22;
    const knownHostsFile = expandHome(this.#options.knownHosts ?? "~/.ssh/known_hosts");
    this.connectAttempts++;
    const knownText = await readKnownHosts(knownHostsFile);
    const privateKey = await readPrivateKey(this.#options.identityFile, this.#target);
    const { NodeSSH } = await import("node-ssh");
    const sock = await openSocket(host, port, (this.#options.readyTimeout ?? 20) * 1000);
    const hostKey = hostKeyVerifier({ knownText, knownHostsFile, host, port, policy: this.#options.hostKeyPolicy, target: this.#target });
    const ssh = new NodeSSH();
    try {
      await ssh.connect({
        sock,
        host,
        port,
        username: user,
        privateKey,
        readyTimeout: (this.#options.readyTimeout ?? 20) * 1000,
        keepaliveInterval: 10_000,
        keepaliveCountMax: 3,
        hostVerifier: hostKey.verify,
      } as Parameters<NodeSSH["connect"]>[0]);
    } catch (error) {
      sock.destroy();
      throw hostKey.refusal() ?? error;
    }
    const newKey = hostKey.newKey();
    if (newKey) await addKnownHost(knownHostsFile, host, port, newKey);
    const client = ssh.connection;
    client?.on("error", () => {
      // A dropped connection: the next call reconnects.
    });
    client?.on("close", () => {
      if (this.#ssh === ssh) {
        this.#ssh = undefined;
        this.#sftp = undefined;
      }
    });
    this.#ssh = ssh;
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
        }
        if (!idempotent || attempt >= 5) {
          throw new ConnectionDroppedError(`connection to ${this.#target} dropped during ${what}`, { cause: error });
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
  }
}

/**
 * {@link Transport} over ONE persistent SSH connection (node-ssh / ssh2), shared by every exec
 * and file transfer of a backend.
 *
 * - The TCP socket is opened here with `setNoDelay(true)`: without it each small exec waits on
 *   Nagle's algorithm (100 sequential sbatch: ~5 s → ~0.9 s).
 * - The host key is checked against known_hosts (`strict` by default; `accept-new` records unknown
 *   hosts). A changed key is refused with {@link HostKeyError}; a key the server does not accept
 *   (or cannot be read) with {@link SshAuthError}. Both are permanent: the transport never tries
 *   again, every later call fails with the same error, and one `connection-refused` notice says so.
 * - When the connection drops, the next call reconnects with exponential backoff and jitter, and
 *   says so: a `connection-lost` notice per failed attempt (attempt number, next delay), one
 *   `connection-restored` when it is back (see `BackendNotice`).
 *   Idempotent calls are re-run after a drop; others fail with {@link BackendError} if the drop
 *   happened after the command may have started (callers make those safe to retry themselves).
 * - node-ssh (and ssh2 under it, 22 modules) is loaded on the first connection, not on import:
 *   `import "gpu-dag"` stays free of it for users who never reach a cluster over SSH.
 *
 * @module
 */
import PQueue from "p-queue";
import { connect as netConnect, type Socket } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import type { NodeSSH } from "node-ssh";
import { BackendError, type GpuDagError, HostKeyError, SshAuthError } from "../../errors.js";
import type { BackendNotice, BackendNoticeListener } from "../queue-backend.js";
import { addKnownHost, checkHostKey, fingerprint, knownHostsName, readKnownHosts } from "./known-hosts.js";
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

/** The SFTP calls used here (ssh2's SFTPWrapper; its types are not installed). */
interface Sftp {
  open(path: string, flags: string, cb: (err: (Error & { code?: number }) | undefined, handle: Buffer) => void): void;
  fstat(handle: Buffer, cb: (err: Error | undefined, stats: { size: number }) => void): void;
  read(handle: Buffer, buf: Buffer, off: number, len: number, pos: number, cb: (err: Error | undefined, bytes: number) => void): void;
  close(handle: Buffer, cb: (err: Error | undefined) => void): void;
  writeFile(path: string, data: string | Buffer, options: { mode: number }, cb: (err: Error | undefined) => void): void;
}

class DroppedError extends Error {}

const expandHome = (p: string): string => (p === "~" ? homedir() : p.startsWith("~/") ? join(homedir(), p.slice(2)) : p);

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
  /** While the connection is down: since when, and failed attempts so far. */
  #outage: { since: number; attempts: number; firstConnect: boolean } | undefined;
  #everConnected = false;
  readonly #noticeListeners = new Set<BackendNoticeListener>();

  constructor(options: SshTransportOptions) {
    this.#options = options;
    this.#channels = new PQueue({ concurrency: options.maxChannels ?? 6 });
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
    this.#noticeListeners.add(listener);
    return () => this.#noticeListeners.delete(listener);
  }

  #notify(notice: BackendNotice): void {
    for (const listener of [...this.#noticeListeners]) {
      try {
        listener(notice);
      } catch {
        // a listener's failure is its own
      }
    }
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
        const outage = this.#outage;
        this.#outage = undefined;
        this.#everConnected = true;
        if (outage) this.#notify({ kind: "connection-restored", target: this.#target, downMs: Date.now() - outage.since, attempts: outage.attempts });
        return ssh;
      } catch (error) {
        if (this.#closed) throw error;
        const refusal = this.#permanent(error);
        if (refusal) {
          this.#refusal = refusal;
          this.#notify({ kind: "connection-refused", target: this.#target, error: refusal });
          throw refusal;
        }
        if (Date.now() >= deadline) {
          throw new BackendError("slurm", `cannot connect to ${this.#target}: ${(error as Error).message}`, { cause: error });
        }
        const delay = Math.min(Math.min(5000, base * 2 ** attempt) * (0.5 + Math.random()), Math.max(0, deadline - Date.now()));
        this.#outage ??= { since: Date.now(), attempts: 0, firstConnect: !this.#everConnected };
        this.#outage.attempts += 1;
        this.#notify({
          kind: "connection-lost",
          target: this.#target,
          attempt: this.#outage.attempts,
          retryInMs: Math.round(delay),
          firstConnect: this.#outage.firstConnect,
          error: (error as Error).message,
        });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** The permanent error `error` stands for (a refused host key or key), if it is one. */
  #permanent(error: unknown): GpuDagError | undefined {
    if (error instanceof HostKeyError || error instanceof SshAuthError) return error;
    if (!isAuthError(error)) return undefined;
    const identity = this.#options.identityFile ?? "the default keys (~/.ssh/id_ed25519, id_ecdsa, id_rsa)";
    return new SshAuthError(
      this.#target,
      this.#options.identityFile,
      `SSH to ${this.#target} refused: the server accepted none of the keys offered (${identity}): ${(error as Error).message}. ` +
        "Check ssh.user and ssh.identityFile in the cluster config (try: ssh -i <key> -p <port> <user>@<host>).",
      { cause: error },
    );
  }

  async #connectOnce(): Promise<NodeSSH> {
    const { host, user } = this.#options;
    const port = this.#options.port ?? 22;
    const knownHostsFile = expandHome(this.#options.knownHosts ?? "~/.ssh/known_hosts");
    this.connectAttempts++;
    const knownText = await readKnownHosts(knownHostsFile);
    const privateKey = await this.#privateKey();
    const { NodeSSH } = await import("node-ssh");
    const sock = await openSocket(host, port, (this.#options.readyTimeout ?? 20) * 1000);
    let refusal: HostKeyError | undefined;
    let newKey: Buffer | undefined;
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
        hostVerifier: (key: Buffer) => {
          const check = checkHostKey(knownText, host, port, key);
          const fp = fingerprint(key);
          const name = knownHostsName(host, port);
          if (check.verdict === "match") return true;
          if (check.verdict === "unknown" && this.#options.hostKeyPolicy === "accept-new") {
            newKey = key;
            return true;
          }
          refusal =
            check.verdict === "unknown"
              ? new HostKeyError(
                  name,
                  fp,
                  `SSH to ${this.#target} refused: host ${name} is not in ${knownHostsFile} (it presented ${fp}); add it (ssh-keyscan, or connect once with ssh) or set ssh.hostKeyPolicy: accept-new`,
                )
              : new HostKeyError(
                  name,
                  fp,
                  `REFUSING to connect to ${this.#target}: the host presented ${fp}, which ${check.revoked ? "is revoked in" : "does not match"} ${knownHostsFile}` +
                    `${check.expected.length > 0 ? ` (known_hosts has ${check.expected.join(", ")} for ${name})` : ""}. ` +
                    "The host may have been reinstalled, or someone may be intercepting the connection; check with the cluster's admins before updating known_hosts. gpu-dag will not retry.",
                  check.expected,
                );
          return false;
        },
      } as Parameters<NodeSSH["connect"]>[0]);
    } catch (error) {
      sock.destroy();
      if (refusal) throw refusal;
      throw error;
    }
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

  async #privateKey(): Promise<string> {
    const candidates = this.#options.identityFile
      ? [this.#options.identityFile]
      : ["~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"];
    for (const file of candidates) {
      try {
        return await readFile(expandHome(file), "utf8");
      } catch (error) {
        if (this.#options.identityFile) {
          throw new SshAuthError(this.#target, file, `SSH to ${this.#target}: cannot read identity file ${file}: ${(error as Error).message}`, { cause: error });
        }
      }
    }
    throw new SshAuthError(this.#target, undefined, `SSH to ${this.#target}: no identity file found (tried ${candidates.join(", ")}); set ssh.identityFile`);
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
      const sftp = await this.#sftpOf(ssh);
      const handle = await new Promise<Buffer | undefined>((resolve, reject) =>
        sftp.open(path, "r", (err, h) => (err ? (err.code === 2 ? resolve(undefined) : reject(err)) : resolve(h))),
      );
      if (!handle) return undefined;
      try {
        const stats = await new Promise<{ size: number }>((resolve, reject) =>
          sftp.fstat(handle, (err, s) => (err ? reject(err) : resolve(s))),
        );
        const size = stats.size;
        const length = options.tailBytes === undefined ? size : Math.min(size, options.tailBytes);
        const data = Buffer.alloc(length);
        let read = 0;
        while (read < length) {
          const chunk = Math.min(length - read, 32 * 1024);
          const n = await new Promise<number>((resolve, reject) =>
            sftp.read(handle, data, read, chunk, size - length + read, (err, bytes) => (err ? reject(err) : resolve(bytes))),
          );
          if (n === 0) break;
          read += n;
        }
        return { data: data.subarray(0, read), size };
      } finally {
        await new Promise<void>((resolve) => sftp.close(handle, () => resolve()));
      }
    });
  }

  /** Writes a file over SFTP with the given mode. */
  writeFile(path: string, data: string | Buffer, options: { mode?: number } = {}): Promise<void> {
    return this.#withRetry(`write ${path}`, true, async (ssh) => {
      const sftp = await this.#sftpOf(ssh);
      await new Promise<void>((resolve, reject) =>
        sftp.writeFile(path, data, { mode: options.mode ?? 0o644 }, (err) => (err ? reject(err) : resolve())),
      );
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

function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`timed out connecting to ${host}:${port}`));
    }, timeoutMs);
    sock.once("connect", () => {
      clearTimeout(timer);
      sock.setNoDelay(true);
      sock.setKeepAlive(true, 10_000);
      resolve(sock);
    });
    sock.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function isAuthError(error: unknown): boolean {
  return error instanceof Error && /authentication methods failed|privateKey|Cannot parse privateKey/i.test(error.message);
}

// A refused channel ("Channel open failure") is sshd's session limit, not a dropped connection:
// it is retried by exec() without tearing down the connection the other commands share.
function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return (
    ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ENOTCONN"].includes(code ?? "") ||
    /Not connected|No response from server|connection lost|socket|ECONNRESET|closed/i.test(error.message)
  );
}

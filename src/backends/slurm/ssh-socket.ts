/**
 * The TCP side of the SSH transport: opening the socket (with `setNoDelay`: without it each small
 * exec waits on Nagle's algorithm; 100 sequential sbatch: ~5 s → ~0.9 s) and telling a dropped
 * connection from other errors.
 *
 * @module
 */
import { connect as netConnect, type Socket } from "node:net";

/** Opens a TCP socket to `host:port`, no-delay and keep-alive, failing after `timeoutMs`. */
export function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
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

/**
 * True when `error` says the connection is gone. A refused channel ("Channel open failure") is
 * sshd's session limit, not a dropped connection: it is retried by exec() without tearing down
 * the connection the other commands share.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ENOTCONN"].includes(code ?? "") || /Not connected|No response from server|connection lost|socket|ECONNRESET|closed/i.test(error.message);
}

/**
 * How the Slurm backend reaches the cluster: over SSH ({@link SshTransport}) or, on a login
 * node, by running commands here ({@link LocalTransport}). Everything goes through one transport
 * instance, so an SSH backend holds exactly one connection.
 *
 * @module
 */
import { BackendError } from "../../errors.js";
import type { BackendNoticeListener } from "../queue-backend.js";

/** What a command printed and how it ended. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status; `null` when it ended by a signal. */
  code: number | null;
}

/** Options of {@link Transport.exec}. */
export interface ExecOptions {
  /** Text written to the command's stdin (then closed). Values sent here never show in `ps`. */
  stdin?: string;
  /**
   * True when running the command twice does no harm (reads, `scancel`): a transport may then
   * re-run it after a dropped connection. Defaults to false.
   */
  idempotent?: boolean;
}

/** Options of {@link Transport.readFile}. */
export interface ReadFileOptions {
  /** Only the last this many bytes. */
  tailBytes?: number;
}

/** A file read from the cluster. */
export interface RemoteFile {
  data: Buffer;
  /** Full size of the file (more than `data.length` when only the tail was read). */
  size: number;
}

/** The transport contract. */
export interface Transport {
  /** `ssh` or `local`. */
  readonly kind: string;
  /** Runs a shell command line on the cluster (by the user's login shell over SSH, `bash -c` locally). */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Reads a file (or its tail); `undefined` when it does not exist. */
  readFile(path: string, options?: ReadFileOptions): Promise<RemoteFile | undefined>;
  /** Writes a file on the cluster, creating it with the given mode (default 0o644). */
  writeFile(path: string, data: string | Buffer, options?: { mode?: number }): Promise<void>;
  /** Releases the connection. */
  close(): Promise<void>;
  /** Optional: connection lost / restored / refused notices (SSH); see `BackendNotice`. */
  onNotice?(listener: BackendNoticeListener): () => void;
}

/**
 * A connection dropped while a non-idempotent command may have been running: its effect is
 * unknown. The Slurm backend then re-submits with duplicate detection by job name.
 */
export class ConnectionDroppedError extends BackendError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("slurm", message, options);
  }
}

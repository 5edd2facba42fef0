/**
 * What the Slurm backend asks the cluster once and then keeps: the job directory with a leading
 * `~` resolved, and the largest array it may submit (`MaxArraySize`, from `scontrol show config`).
 *
 * @module
 */
import { DEFAULT_MAX_ARRAY_SIZE, parseArrayLimits, SCONTROL_CONFIG } from "./slurm-output.js";
import type { ExecResult } from "./transport.js";

/** Runs one command on the cluster (counted by the backend). */
export type ClusterExec = (command: string, options: { idempotent: true }) => Promise<ExecResult>;

/** See the module comment. */
export class ClusterFacts {
  readonly #exec: ClusterExec;
  readonly #configuredJobDir: string;
  readonly #maxArraySizeOverride: number | undefined;
  #jobDir: Promise<string> | undefined;
  #maxArraySize: Promise<number> | undefined;

  /** `maxArraySize`, when given, is used instead of asking the cluster. */
  constructor(exec: ClusterExec, jobDir: string, maxArraySize?: number) {
    this.#exec = exec;
    this.#configuredJobDir = jobDir;
    this.#maxArraySizeOverride = maxArraySize;
  }

  /** The job directory on the cluster, with a leading `~` resolved once. */
  jobDir(): Promise<string> {
    this.#jobDir ??= (async () => {
      const dir = this.#configuredJobDir;
      if (dir !== "~" && !dir.startsWith("~/")) return dir;
      const home = (await this.#exec('printf %s "$HOME"', { idempotent: true })).stdout.trim();
      return home + dir.slice(1);
    })();
    this.#jobDir.catch(() => {
      this.#jobDir = undefined; // asked again next time
    });
    return this.#jobDir;
  }

  /**
   * Most elements of one array job: asked once (`scontrol show config`); Slurm's default 1001
   * when the answer cannot be read (an old `scontrol`, a restricted config).
   */
  maxArraySize(): Promise<number> {
    if (this.#maxArraySizeOverride !== undefined) return Promise.resolve(this.#maxArraySizeOverride);
    this.#maxArraySize ??= this.#exec(`${SCONTROL_CONFIG} 2>/dev/null || true`, { idempotent: true }).then(
      (result) => parseArrayLimits(result.stdout),
      () => {
        this.#maxArraySize = undefined; // the connection failed: ask again next time
        return DEFAULT_MAX_ARRAY_SIZE;
      },
    );
    return this.#maxArraySize;
  }
}

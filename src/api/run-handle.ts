/**
 * A handle on a run driven elsewhere (a detached controller, another machine): follow it through
 * the store's journal, wait for its end, cancel it.
 *
 * @module
 */

import { join } from "node:path";
import { shellQuote } from "../args/shell-quote.js";
import { readRemoteRunInfo } from "../remote/slurm-controller.js";
import { syncRemoteRun } from "../remote/sync-remote-run.js";
import { readLock } from "../store/run-lock.js";
import type { Store } from "../store/store.js";
import { readRun, resultOf } from "./run-status.js";

/** See the module comment. */
export class RunHandle {
  readonly runId: string;
  readonly store: Store;

  /** The pid of a controller process this handle's caller started here (none for a cluster one or `attach`). */
  readonly #controllerPid: number | undefined;

  constructor(runId: string, store: Store, options: { controllerPid?: number } = {}) {
    this.runId = runId;
    this.store = store;
    this.#controllerPid = options.controllerPid;
  }

  /** The run as the journal tells it now (mirrored from the cluster first for a remote controller). */
  async status(): Promise<ReturnType<typeof resultOf>> {
    await this.#syncRemote();
    return resultOf(this.store, await readRun(this.store, this.runId));
  }

  /** For a controller on a cluster: copy its journal here and note whether its job is alive. */
  async #syncRemote(): Promise<void> {
    const remote = await syncRemoteRun(this.store, this.runId);
    if (remote) this.#remoteControllerAlive = remote.alive;
  }

  #remoteControllerAlive: boolean | undefined;

  /**
   * Resolves when the run has finished. Rejects when `timeoutMs` passes first, or when the
   * controller is gone (its lock released or stale, and the process this handle started, if any,
   * has exited) for `CONTROLLER_GONE_MS` (5 s) while the run is unfinished.
   */
  async wait(options: { pollMs?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ReturnType<typeof resultOf>> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    let missingSince: number | undefined;
    for (;;) {
      const result = await this.status();
      if (result.status !== "running") return result;
      const lock = this.#remoteControllerAlive ?? (await readLock(join(this.store.runDir(this.runId), "lock.json")));
      // A controller process we started that has not taken the lock yet (a slow start on a loaded machine) is not gone.
      const present = Boolean(lock) || (this.#controllerPid !== undefined && processAlive(this.#controllerPid));
      missingSince = present ? undefined : (missingSince ?? Date.now());
      // Measured in time, not polls: the gap between start and lock, or a lock being renewed, is not "gone".
      if (missingSince !== undefined && Date.now() - missingSince >= CONTROLLER_GONE_MS) {
        const info = await readRemoteRunInfo(this.store, this.runId);
        const where = info
          ? `its controller job ${info.jobId} has left the cluster's queue (its log: <jobDir>/${this.runId}/_controller/a${info.generation ?? 1}/stderr.log on the cluster)`
          : `no controller holds it (a local controller's log: ${join(this.store.runDir(this.runId), "controller.log")})`;
        throw new Error(`run ${this.runId} is unfinished and ${where}; resume it with \`gpu-dag resume ${this.runId}\``);
      }
      if (Date.now() > deadline) throw new Error(`run ${this.runId} still running after ${options.timeoutMs} ms`);
      if (options.signal?.aborted) throw new Error("wait aborted");
      await new Promise((r) => setTimeout(r, options.pollMs ?? 200));
    }
  }

  /** Asks the controller to cancel the run (SIGTERM to a local controller, `scancel` of a cluster one). */
  async cancel(): Promise<boolean> {
    const info = await readRemoteRunInfo(this.store, this.runId);
    if (info) {
      const transport = await clusterTransport(info.cluster);
      try {
        // The controller gets SIGTERM, cancels its jobs and journals the run as cancelled.
        return (await transport.exec(`scancel --full --signal=TERM ${shellQuote(info.jobId)}`)).code === 0;
      } finally {
        await transport.close();
      }
    }
    const lock = await readLock(join(this.store.runDir(this.runId), "lock.json"));
    if (!lock) return false;
    try {
      process.kill(lock.pid, "SIGTERM");
      return true;
    } catch {
      return false;
    }
  }
}

/** How long a run may be unfinished with no controller seen before {@link RunHandle.wait} gives up on it. */
export const CONTROLLER_GONE_MS = 5_000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Loaded lazily: only runs with a controller on a cluster need SSH. */
async function clusterTransport(cluster: Parameters<typeof import("../backends/slurm/transport-for.js").transportFor>[0]) {
  const { transportFor } = await import("../backends/slurm/transport-for.js");
  return transportFor(cluster);
}

/**
 * The `sh` wrapper every local job runs under, and the marker files it leaves in the attempt
 * directory: `claim` (created exclusively before the command runs: at most one process runs an
 * attempt), `exit_code` (so a job that outlives its controller still reports how it ended) and
 * `job.json` (pid, start time and devices, written by the backend when it forks the job, or by
 * its spawner when that starts it) and `spawning` (the spawner asked to start it: its pid and start
 * time, written by the backend before it asks, so an adopter knows a start may be under way).
 *
 * @module
 */
import { shellQuote } from "../../args/shell-quote.js";
import { type GpuLeases, type LeaseHolder, leaseScript } from "./gpu-leases.js";

/** The file holding the exit code the wrapper wrote. */
export const EXIT_CODE_FILE = "exit_code";
/** The file recording pid and start time of a started job. */
export const JOB_FILE = "job.json";
/** The file naming the spawner asked to start the attempt (written before the request is sent). */
export const SPAWNING_FILE = "spawning";
/** The file a job's wrapper creates exclusively, holding its pid, before it runs the command. */
export const CLAIM_FILE = "claim";
/** Exit code of a wrapper that found its attempt already claimed by another process (it ran nothing). */
export const DUPLICATE_EXIT = 86;

// Only the job itself is forked: the claim is a `{ …; }` group (a failed redirection there is not
// fatal and needs no subshell), and the exit code is written in place, as one write of a few bytes
// (no `mv` process). A reader that catches it truncated but unwritten sees "" = no code yet; the
// wrapper is then still alive, so it is watched and read again once gone. Each saved fork was
// ~3–5 ms of the parent-exit → child-start path on the benchmark VM (bench/dispatch-latency.ts).
// GPU jobs get the lease step of gpu-leases.ts in front: one `flock` process per GPU, the only
// fork added (Node cannot flock, and a lock taken anywhere but in the job's own tree would not
// die with the job).
const WRAPPER =
  `set -C; { printf "%s" "$$" > "$GPU_DAG_OUTPUT_DIR/${CLAIM_FILE}"; } 2>/dev/null || exit ${DUPLICATE_EXIT}; set +C; ` +
  `code=0; "$@" || code=$?; printf "%s" "$code" > "$GPU_DAG_OUTPUT_DIR/${EXIT_CODE_FILE}"; exit "$code"`;

/**
 * The script `sh -c` runs for a job (its argv follows as `"$@"`): the lease step for the GPUs in
 * `locked` (lease files on fds 4, 5, … in that order) when there are any, then the wrapper.
 */
export function jobScript(leases: GpuLeases | undefined, locked: readonly string[], holder: LeaseHolder): string {
  return (leases && locked.length > 0 ? leaseScript(leases, locked, holder, shellQuote) : "") + WRAPPER;
}

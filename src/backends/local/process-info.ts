/**
 * Facts about processes from /proc, to re-attach to a job after a controller restart: a pid is
 * only ours if its start time matches the one recorded (pids are reused).
 *
 * @module
 */
import { readFileSync } from "node:fs";

/** Start time of `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat), or `undefined` if gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and ")"; fields after the last ")" are fixed.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (rest[0] === "Z") return undefined; // a zombie has exited
    return rest[19];
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive and started at `startTime`. */
export function isSameProcess(pid: number, startTime: string): boolean {
  return processStartTime(pid) === startTime;
}

/**
 * Id generation. Ids are short, sortable by creation time where that helps (`runs`), and safe in
 * file names, Slurm job names and shell words without quoting.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { StoreError } from "../errors.js";

/** A random id with a type prefix, e.g. `task_7f3a9c01d2e4`. */
export function newId(prefix: "task" | "model" | "artifact"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

/** A run id: UTC time then randomness, e.g. `20261121-183012-a1b2c3`. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

/** Ids and step names become path segments; refuse anything that could escape a directory. */
export function assertSafeSegment(kind: string, value: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value) || value.includes("..")) {
    throw new StoreError(`invalid ${kind} ${JSON.stringify(value)}: use letters, digits, "_", "-" and "." (no "..")`);
  }
}

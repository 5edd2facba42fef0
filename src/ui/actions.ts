/**
 * The dashboard's actions on a run — cancel, resume, retry failed — done by the `gpu-dag` command
 * itself (resume and retry with `--remote`: a detached controller, so the dashboard never drives
 * a run in its own process).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { packageRoot } from "../package-root.js";

/** The actions a POST may ask for. */
export const ACTIONS = ["cancel", "resume", "retry"] as const;
/** One of {@link ACTIONS}. */
export type UiAction = (typeof ACTIONS)[number];

/** Runs `gpu-dag --home <home> <action> <run>`; resolves with its exit code and output. */
export function runAction(home: string, action: UiAction, runId: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = [join(packageRoot(), "bin", "gpu-dag.js"), "--home", home, action, ...(action === "cancel" ? [] : ["--remote"]), "--", runId];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Starting a controller away from the calling process: a detached daemon on this machine running
 * `gpu-dag controller <run>`, with its own log in the run directory. The caller may exit at once.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { packageRoot } from "../package-root.js";
import type { Store } from "../store/store.js";

/** The argv that runs the gpu-dag CLI: built `dist/` when present, else the TypeScript sources via tsx. */
export function cliCommand(): string[] {
  const root = packageRoot();
  const built = join(root, "dist", "cli", "main.js");
  if (existsSync(built)) return [process.execPath, built];
  // `--import tsx` would be resolved from the caller's working directory, which need not see
  // this package's node_modules: name the loader by its absolute URL instead.
  const tsx = pathToFileURL(createRequire(join(root, "package.json")).resolve("tsx")).href;
  return [process.execPath, "--import", tsx, join(root, "src", "cli", "main.ts")];
}

/** Spawns a detached controller for `runId`; returns its pid. Output goes to `<runDir>/controller.log`. */
export function startDetachedController(store: Store, runId: string, options: { resume?: boolean; force?: readonly string[]; home: string }): number {
  const log = openSync(join(store.runDir(runId), "controller.log"), "a");
  try {
    const [node, ...args] = cliCommand();
    const child = spawn(node!, [...args, "controller", runId, ...(options.resume ? ["--resume"] : []), ...(options.force ?? []).flatMap((step) => ["--force", step])], {
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...process.env, GPU_DAG_HOME: options.home },
      cwd: process.cwd(),
    });
    child.unref();
    return child.pid!;
  } finally {
    closeSync(log);
  }
}

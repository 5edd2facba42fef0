/**
 * Where the installed package lives, so bundled files (task configs, the Python runtime) are found
 * the same way from `src/` under tsx and from `dist/`.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** Absolute path of the gpu-dag package root (the directory holding its package.json). */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "gpu-dag") {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("gpu-dag: cannot find the package root from " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** Directory of the job-side Python runtime (`python/`, holding the `gpu_dag_runtime` package). */
export function pythonRuntimeDir(): string {
  return join(packageRoot(), "python");
}

/** Directory of bundled task configs. */
export function bundledConfigDir(): string {
  return join(packageRoot(), "src", "tasks", "configs");
}

/** This package's version, from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}

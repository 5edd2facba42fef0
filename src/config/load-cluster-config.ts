/**
 * Finding and loading cluster configs. Lookup for a name: an explicit path, then
 * `--config-dir` / `GPU_DAG_CONFIG_DIR`, then `./cluster_configs/`, then the built-in `local`.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { ConfigError } from "../errors.js";
import { builtinLocalConfig, type ClusterConfig, ClusterConfigSchema } from "./cluster-config.js";
import { fileSizeProblem } from "./document-limits.js";
import { parseYamlWith } from "./yaml-schema.js";

/** Where to look for cluster configs. */
export interface ConfigLookupOptions {
  /** Directory of `<name>.yaml` configs (default: `GPU_DAG_CONFIG_DIR`). */
  configDir?: string;
  /** Base for the relative `./cluster_configs/` (default: `process.cwd()`). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** A loaded config and where it came from. */
export interface LoadedClusterConfig {
  name: string;
  /** File it was read from, or `builtin:local`. */
  source: string;
  config: ClusterConfig;
}

/** Parses cluster-config YAML text; errors name `file`, the line and the field. */
export function parseClusterConfig(text: string, file: string): ClusterConfig {
  return parseYamlWith(ClusterConfigSchema, text, file);
}

/** Loads a cluster config by path or by name (see the module comment for the lookup order). */
export async function loadClusterConfig(nameOrPath = "local", options: ConfigLookupOptions = {}): Promise<LoadedClusterConfig> {
  const file = findClusterConfigFile(nameOrPath, options);
  if (file === undefined) {
    if (nameOrPath === "local") return { name: "local", source: "builtin:local", config: builtinLocalConfig() };
    const dirs = searchDirs(options).join(", ");
    throw new ConfigError(`cluster config "${nameOrPath}" not found (looked for ${nameOrPath}.yaml in: ${dirs})`, {
      file: nameOrPath,
    });
  }
  const tooBig = fileSizeProblem(file);
  if (tooBig) throw new ConfigError(`${file}: invalid YAML: ${tooBig}`, { file });
  const text = await readFile(file, "utf8").catch((error: unknown) => {
    throw new ConfigError(`cannot read cluster config ${file}: ${(error as Error).message}`, { file, cause: error });
  });
  const name = nameOrPath.replace(/^.*\//, "").replace(/\.ya?ml$/, "");
  return { name, source: file, config: parseClusterConfig(text, file) };
}

/** The file a name or path refers to, or `undefined`. */
export function findClusterConfigFile(nameOrPath: string, options: ConfigLookupOptions = {}): string | undefined {
  const cwd = options.cwd ?? process.cwd();
  if (/\.ya?ml$/.test(nameOrPath) || nameOrPath.includes("/")) {
    const path = isAbsolute(nameOrPath) ? nameOrPath : resolve(cwd, nameOrPath);
    if (existsSync(path)) return path;
    throw new ConfigError(`cluster config file ${path} does not exist`, { file: path });
  }
  for (const dir of searchDirs(options)) {
    for (const ext of [".yaml", ".yml"]) {
      const candidate = join(dir, nameOrPath + ext);
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

function searchDirs(options: ConfigLookupOptions): string[] {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const dirs = [options.configDir, env["GPU_DAG_CONFIG_DIR"], join(cwd, "cluster_configs")];
  return dirs.filter((d): d is string => typeof d === "string" && d.length > 0).map((d) => resolve(cwd, d));
}

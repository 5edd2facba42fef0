/**
 * Reading the OpenSSH client config (`~/.ssh/config`, then `/etc/ssh/ssh_config`) with the
 * `ssh-config` package, and asking it what applies to one host: the first value of each option
 * wins, as in ssh_config(5). `Include` lines (globs, paths relative to `~/.ssh` or `/etc/ssh`) are
 * expanded here, since the package leaves them as they are. `Match exec` blocks are not run
 * (gpu-dag runs no command from a config file); other `Match` criteria are evaluated.
 *
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join } from "node:path";
import type SSHConfig from "ssh-config";
import type { Line } from "ssh-config";
import { ConfigError } from "../../errors.js";

/** The options that apply to one host, by lower-case name; repeatable ones (`IdentityFile`, …) as lists. */
export type HostOptions = Readonly<Record<string, string | readonly string[]>>;

/** A parsed client config, ready to answer {@link SshClientConfig.lookup}. */
export interface SshClientConfig {
  /** The files read, in order (for messages). */
  readonly files: readonly string[];
  /** What applies to `host` (an alias or a host name). */
  lookup(host: string): HostOptions;
}

const MAX_INCLUDE_DEPTH = 16;

/** `~` and `~/…` resolved to this user's home. */
export function expandTilde(path: string): string {
  return path === "~" ? homedir() : path.startsWith("~/") ? join(homedir(), path.slice(2)) : path;
}

/**
 * Reads the client config: `configFile` alone (an unreadable one is a {@link ConfigError}), or
 * `~/.ssh/config` then `/etc/ssh/ssh_config` when they exist. `"none"` reads nothing.
 */
export async function readSshClientConfig(configFile: string | undefined): Promise<SshClientConfig> {
  const { default: SSHConfigClass } = await import("ssh-config");
  const files: string[] = [];
  const lines: Line[] = [];
  const candidates = configFile === "none" ? [] : configFile !== undefined ? [expandTilde(configFile)] : [join(homedir(), ".ssh", "config"), "/etc/ssh/ssh_config"];
  for (const file of candidates) {
    const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (configFile !== undefined) {
        throw new ConfigError(`ssh.configFile ${file} cannot be read: ${error.message}`, { file, field: "ssh.configFile", cause: error });
      }
      return undefined;
    });
    if (text === undefined) continue;
    files.push(file);
    const system = file.startsWith("/etc/");
    lines.push(...(await expandIncludes(SSHConfigClass.parse(text), system ? "/etc/ssh" : join(homedir(), ".ssh"), files, 0, SSHConfigClass)));
  }
  const config = SSHConfigClass.parse("");
  config.push(...lines);
  return {
    files,
    lookup: (host) => normalise(config.compute(host, { ignoreCase: true, matchExec: false })),
  };
}

/** Lines of `config` with each `Include` replaced by the lines of the files it names. */
async function expandIncludes(config: SSHConfig, base: string, files: string[], depth: number, SSHConfigClass: typeof SSHConfig): Promise<Line[]> {
  const out: Line[] = [];
  for (const line of config) {
    if (!("param" in line) || !/^include$/i.test(line.param)) {
      if ("config" in line && line.config.some((l) => "param" in l && /^include$/i.test(l.param))) {
        // An Include inside a Host block: its options belong to the block, its own blocks follow it.
        const inner = await expandIncludes(line.config, base, files, depth, SSHConfigClass);
        const sectionLines = inner.filter((l) => !("config" in l));
        line.config.splice(0, line.config.length, ...sectionLines);
        out.push(line, ...inner.filter((l) => "config" in l));
        continue;
      }
      out.push(line);
      continue;
    }
    if (depth >= MAX_INCLUDE_DEPTH) throw new ConfigError(`ssh config: Include nested more than ${MAX_INCLUDE_DEPTH} deep (${files.join(", ")})`, { field: "ssh.configFile" });
    for (const pattern of values(line.value)) {
      for (const file of await globFiles(pattern, base)) {
        const text = await readFile(file, "utf8").catch(() => undefined);
        if (text === undefined) continue;
        files.push(file);
        out.push(...(await expandIncludes(SSHConfigClass.parse(text), base, files, depth + 1, SSHConfigClass)));
      }
    }
  }
  return out;
}

function values(value: string | readonly { val: string }[]): string[] {
  return typeof value === "string" ? [value] : value.map((v) => v.val);
}

/** Files matching an Include pattern (`*` and `?` in the last part), sorted as OpenSSH does. */
async function globFiles(pattern: string, base: string): Promise<string[]> {
  const path = expandTilde(pattern);
  const absolute = isAbsolute(path) ? path : join(base, path);
  const name = basename(absolute);
  if (!/[*?[]/.test(name)) return [absolute];
  const re = new RegExp(
    `^${name
      .replace(/[.+^${}()|\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  const dir = dirname(absolute);
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries
    .filter((e) => re.test(e))
    .sort()
    .map((e) => join(dir, e));
}

/** `compute()`'s answer with every key lower-cased and every value a string or a string list. */
function normalise(computed: Record<string, string | string[]>): HostOptions {
  const out: Record<string, string | readonly string[]> = {};
  for (const [key, value] of Object.entries(computed)) out[key.toLowerCase()] = value;
  return out;
}

/** The first value of option `name` (lower case), if set. */
export function option(options: HostOptions, name: string): string | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : value[0];
}

/** Every value of a repeatable or multi-word option (`IdentityFile`, `UserKnownHostsFile`). */
export function optionList(options: HostOptions, name: string): string[] {
  const value = options[name];
  if (value === undefined) return [];
  return typeof value === "string" ? value.split(/\s+/).filter(Boolean) : [...value];
}

/**
 * known_hosts checking for the SSH transport, as OpenSSH does it: plain and hashed (`|1|salt|hash`)
 * host entries, `[host]:port` for non-22 ports, comma lists, `*`/`?` patterns and `!` negation,
 * `@revoked` keys. Fingerprints are OpenSSH's `SHA256:` + unpadded base64 of the key's SHA-256.
 *
 * @module
 */
import { createHash, createHmac } from "node:crypto";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";

/** OpenSSH fingerprint of a raw public key blob: `SHA256:…` (unpadded base64). */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** The key type inside an SSH public key blob (its first string), e.g. `ssh-ed25519`. */
export function keyType(key: Buffer): string {
  if (key.length < 4) return "unknown";
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString("latin1");
}

/** The name known_hosts uses for a host: `host`, or `[host]:port` when the port is not 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Result of {@link checkHostKey}. */
export type HostKeyVerdict =
  | { verdict: "match" }
  | { verdict: "unknown" }
  /**
   * The host is listed with other keys (of the same type) only, or the key is revoked.
   * `expected`: fingerprints of the keys listed for it.
   */
  | { verdict: "mismatch"; revoked: boolean; expected: string[] };

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  );
  return re.test(name);
}

function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith("|1|")) {
    const [, , salt, hash] = field.split("|");
    if (!salt || !hash) return false;
    return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  let matched = false;
  for (const pattern of field.split(",")) {
    if (pattern.startsWith("!")) {
      if (globMatch(pattern.slice(1), name)) return false;
    } else if (globMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** Checks `key` for `host:port` against known_hosts text. Pure. */
export function checkHostKey(knownHostsText: string, host: string, port: number, key: Buffer): HostKeyVerdict {
  return checkHostKeyNamed(knownHostsText, knownHostsName(host, port), key);
}

/** Checks `key` for the host known_hosts lists as `name` (`host`, `[host]:port`, or a `HostKeyAlias`). Pure. */
export function checkHostKeyNamed(knownHostsText: string, name: string, key: Buffer): HostKeyVerdict {
  const type = keyType(key);
  const blob = key.toString("base64");
  const expected: string[] = [];
  let matched = false;
  for (const raw of knownHostsText.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const parts = line.split(/\s+/);
    let marker: string | undefined;
    if (parts[0]?.startsWith("@")) marker = parts.shift();
    const [hosts, lineType, lineKey] = parts;
    if (!hosts || !lineType || !lineKey) continue;
    if (marker === "@cert-authority") continue;
    if (marker === "@revoked") {
      if (lineKey === blob) return { verdict: "mismatch", revoked: true, expected: [] };
      continue;
    }
    if (!hostFieldMatches(hosts, name)) continue;
    if (lineType === type && lineKey === blob) matched = true;
    else if (lineType === type) expected.push(fingerprint(Buffer.from(lineKey, "base64")));
  }
  if (matched) return { verdict: "match" };
  return expected.length > 0 ? { verdict: "mismatch", revoked: false, expected } : { verdict: "unknown" };
}

/** Reads a known_hosts file ("" when missing). */
export async function readKnownHosts(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw error;
  }
}

/** Appends `host:port`'s key to a known_hosts file (the `accept-new` policy). */
export async function addKnownHost(file: string, host: string, port: number, key: Buffer): Promise<void> {
  await addKnownHostNamed(file, knownHostsName(host, port), key);
}

/** Appends a key for the host known_hosts lists as `name`. */
export async function addKnownHostNamed(file: string, name: string, key: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const existing = await readKnownHosts(file);
  const prefix = existing && !existing.endsWith("\n") ? "\n" : "";
  await appendFile(file, `${prefix}${name} ${keyType(key)} ${key.toString("base64")}\n`, { mode: 0o600 });
}

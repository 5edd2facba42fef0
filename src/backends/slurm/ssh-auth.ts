/**
 * Who the SSH transport trusts and how it proves who it is: the host key checked against
 * known_hosts (`strict`, or `accept-new` recording unknown hosts; a changed or revoked key is
 * always refused with {@link HostKeyError}), the private key read from the identity file, and an
 * authentication failure turned into a permanent {@link SshAuthError}.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { type GpuDagError, HostKeyError, SshAuthError } from "../../errors.js";
import { checkHostKey, fingerprint, knownHostsName } from "./known-hosts.js";

/** `p` with a leading `~` resolved to this user's home directory. */
export const expandHome = (p: string): string => (p === "~" ? homedir() : p.startsWith("~/") ? join(homedir(), p.slice(2)) : p);

/** What {@link hostKeyVerifier} decided, read once the handshake is over. */
export interface HostKeyCheck {
  /** ssh2's `hostVerifier`: true to go on with the handshake. */
  verify: (key: Buffer) => boolean;
  /** Why the key was refused, if it was. */
  refusal: () => HostKeyError | undefined;
  /** The unknown key accepted under `accept-new`, to record in known_hosts once connected. */
  newKey: () => Buffer | undefined;
}

/** Settings of {@link hostKeyVerifier}. */
export interface HostKeyCheckOptions {
  /** known_hosts' text, and the file it came from (for messages). */
  knownText: string;
  knownHostsFile: string;
  host: string;
  port: number;
  policy: "strict" | "accept-new" | undefined;
  /** `user@host:port`, for messages. */
  target: string;
}

/** A host key verifier for one connection attempt; see {@link HostKeyCheck}. */
export function hostKeyVerifier(options: HostKeyCheckOptions): HostKeyCheck {
  const { knownText, knownHostsFile, host, port, target } = options;
  let refusal: HostKeyError | undefined;
  let newKey: Buffer | undefined;
  const verify = (key: Buffer): boolean => {
    const check = checkHostKey(knownText, host, port, key);
    const fp = fingerprint(key);
    const name = knownHostsName(host, port);
    if (check.verdict === "match") return true;
    if (check.verdict === "unknown" && options.policy === "accept-new") {
      newKey = key;
      return true;
    }
    refusal =
      check.verdict === "unknown"
        ? new HostKeyError(
            name,
            fp,
            `SSH to ${target} refused: host ${name} is not in ${knownHostsFile} (it presented ${fp}); add it (ssh-keyscan, or connect once with ssh) or set ssh.hostKeyPolicy: accept-new`,
          )
        : new HostKeyError(
            name,
            fp,
            `REFUSING to connect to ${target}: the host presented ${fp}, which ${check.revoked ? "is revoked in" : "does not match"} ${knownHostsFile}` +
              `${check.expected.length > 0 ? ` (known_hosts has ${check.expected.join(", ")} for ${name})` : ""}. ` +
              "The host may have been reinstalled, or someone may be intercepting the connection; check with the cluster's admins before updating known_hosts. gpu-dag will not retry.",
            check.expected,
          );
    return false;
  };
  return { verify, refusal: () => refusal, newKey: () => newKey };
}

/**
 * The private key to offer: `identityFile` (an unreadable one is a {@link SshAuthError}), else the
 * first of `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa` that can be read.
 */
export async function readPrivateKey(identityFile: string | undefined, target: string): Promise<string> {
  const candidates = identityFile ? [identityFile] : ["~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"];
  for (const file of candidates) {
    try {
      return await readFile(expandHome(file), "utf8");
    } catch (error) {
      if (identityFile) {
        throw new SshAuthError(target, file, `SSH to ${target}: cannot read identity file ${file}: ${(error as Error).message}`, { cause: error });
      }
    }
  }
  throw new SshAuthError(target, undefined, `SSH to ${target}: no identity file found (tried ${candidates.join(", ")}); set ssh.identityFile`);
}

/** The permanent error `error` stands for (a refused host key or key), if it is one. */
export function permanentRefusal(error: unknown, target: string, identityFile: string | undefined): GpuDagError | undefined {
  if (error instanceof HostKeyError || error instanceof SshAuthError) return error;
  if (!isAuthError(error)) return undefined;
  const identity = identityFile ?? "the default keys (~/.ssh/id_ed25519, id_ecdsa, id_rsa)";
  return new SshAuthError(
    target,
    identityFile,
    `SSH to ${target} refused: the server accepted none of the keys offered (${identity}): ${(error as Error).message}. ` +
      "Check ssh.user and ssh.identityFile in the cluster config (try: ssh -i <key> -p <port> <user>@<host>).",
    { cause: error },
  );
}

function isAuthError(error: unknown): boolean {
  return error instanceof Error && /authentication methods failed|privateKey|Cannot parse privateKey/i.test(error.message);
}

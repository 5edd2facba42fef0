/**
 * Who the SSH transport trusts: each hop's host key checked against known_hosts (`strict`, or
 * `accept-new` recording unknown hosts; a changed or revoked key is always refused with
 * {@link HostKeyError}, naming the hop and, behind a jump host, the target it was on the way to).
 * How it proves who it is lives in ssh-keys.ts.
 *
 * @module
 */

import { homedir } from "node:os";
import { join } from "node:path";
import { HostKeyError } from "../../errors.js";
import { checkHostKeyNamed, fingerprint } from "./known-hosts.js";

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
  /** known_hosts' text, and the files it came from (for messages). */
  knownText: string;
  knownHostsFile: string;
  /** The name known_hosts lists the hop under (`host`, `[host]:port` or its `HostKeyAlias`). */
  name: string;
  policy: "strict" | "accept-new" | undefined;
  /** `user@host:port` of the hop, for messages. */
  target: string;
  /** For a jump host: ` (jump host 1 of 2 on the way to me@login:22)`. */
  role?: string;
}

/** A host key verifier for one hop of one connection attempt; see {@link HostKeyCheck}. */
export function hostKeyVerifier(options: HostKeyCheckOptions): HostKeyCheck {
  const { knownText, knownHostsFile, name, target } = options;
  const role = options.role ?? "";
  let refusal: HostKeyError | undefined;
  let newKey: Buffer | undefined;
  const verify = (key: Buffer): boolean => {
    const check = checkHostKeyNamed(knownText, name, key);
    const fp = fingerprint(key);
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
            `SSH to ${target}${role} refused: host ${name} is not in ${knownHostsFile} (it presented ${fp}); add it (ssh-keyscan, or connect once with ssh) or set ssh.hostKeyPolicy: accept-new`,
          )
        : new HostKeyError(
            name,
            fp,
            `REFUSING to connect to ${target}${role}: the host presented ${fp}, which ${check.revoked ? "is revoked in" : "does not match"} ${knownHostsFile}` +
              `${check.expected.length > 0 ? ` (known_hosts has ${check.expected.join(", ")} for ${name})` : ""}. ` +
              "The host may have been reinstalled, or someone may be intercepting the connection; check with the cluster's admins before updating known_hosts. gpu-dag will not retry.",
            check.expected,
          );
    return false;
  };
  return { verify, refusal: () => refusal, newKey: () => newKey };
}

/**
 * The parts of `ssh2` (the SSH implementation under node-ssh) the transport uses directly —
 * the client of each hop, the agent, the key parser — typed here, since ssh2 ships no types.
 * Loaded on the first connection, never on import.
 *
 * @module
 */
import type { Duplex } from "node:stream";

/** A parsed key (`utils.parseKey`). */
export interface Ssh2ParsedKey {
  type: string;
  comment: string;
  isPrivateKey(): boolean;
  /** The public key blob (SSH wire format). */
  getPublicSSH(): Buffer;
}

/** An ssh-agent client (`OpenSSHAgent` and its subclasses). */
export interface Ssh2Agent {
  getIdentities(cb: (error: Error | null | undefined, keys?: Ssh2ParsedKey[]) => void): void;
  sign(...args: unknown[]): void;
}

/** What the auth handler returns for the next method; `false` when none is left. */
export type Ssh2NextAuth = { type: "agent"; username: string; agent: Ssh2Agent } | { type: "publickey"; username: string; key: Ssh2ParsedKey } | false;

/** ssh2's `authHandler`: called before each method; answers now (returned) or later (`next`). */
export type Ssh2AuthHandler = (methodsLeft: string[] | null, partialSuccess: boolean | null, next: (auth: Ssh2NextAuth) => void) => Ssh2NextAuth | undefined;

/** One SSH connection (`ssh2.Client`). */
export interface Ssh2Client {
  connect(config: Record<string, unknown>): void;
  on(event: "ready" | "close" | "end", listener: () => void): this;
  on(event: "error", listener: (error: Error & { level?: string }) => void): this;
  removeListener(event: string, listener: (...args: never[]) => void): this;
  end(): void;
  forwardOut(srcIP: string, srcPort: number, dstIP: string, dstPort: number, cb: (error: Error | undefined, stream: Duplex) => void): boolean;
}

/** The module. */
export interface Ssh2Module {
  Client: new () => Ssh2Client;
  OpenSSHAgent: new (socketPath: string) => Ssh2Agent;
  utils: { parseKey(data: string | Buffer, passphrase?: string): Ssh2ParsedKey | Ssh2ParsedKey[] | Error };
}

/** Loads ssh2 (once; Node caches it). */
export async function loadSsh2(): Promise<Ssh2Module> {
  // @ts-expect-error -- ssh2 ships no type declarations; the parts used are typed above.
  const loaded = (await import("ssh2")) as { default?: Ssh2Module } & Ssh2Module;
  return loaded.default ?? loaded;
}

/** A parsed key, or the reason it could not be parsed. */
export function parseKey(ssh2: Ssh2Module, data: string | Buffer, passphrase?: string): Ssh2ParsedKey | Error {
  const parsed = passphrase === undefined ? ssh2.utils.parseKey(data) : ssh2.utils.parseKey(data, passphrase);
  if (parsed instanceof Error) return parsed;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return key ?? new Error("no key in file");
}

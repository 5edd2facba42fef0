/**
 * How the SSH transport proves who it is on one hop, in OpenSSH's order: the ssh-agent's keys
 * first (`SSH_AUTH_SOCK` or `IdentityAgent`; with `IdentitiesOnly yes` only those of the
 * identity files), then each identity file. A passphrase-protected file is used through the
 * agent when it holds the key; otherwise its passphrase is asked on the terminal, when there is
 * one, only once the methods before it failed — never read from a file or the environment, never
 * stored (the decrypted key stays in this process's memory for reconnections).
 *
 * Every method tried is noted, so a refusal says which user, which host and which keys or agent
 * were tried and what became of each ({@link HopAuth.failure}).
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { SshAuthError } from "../../errors.js";
import type { PassphrasePrompt } from "./ssh-passphrase.js";
import type { SshHop } from "./ssh-route.js";
import { parseKey, type Ssh2Agent, type Ssh2AuthHandler, type Ssh2Module, type Ssh2NextAuth, type Ssh2ParsedKey } from "./ssh2-module.js";

/** Keys decrypted with a passphrase asked in this process, by file: kept for reconnections. */
export type DecryptedKeys = Map<string, Ssh2ParsedKey>;

/** What one hop's authentication needs. */
export interface HopAuthContext {
  ssh2: Ssh2Module;
  hop: SshHop;
  /** ssh-agent socket, when there is one. */
  agent: string | undefined;
  decrypted: DecryptedKeys;
  /** How to ask for a passphrase; `undefined` without a terminal. */
  prompt: PassphrasePrompt | undefined;
  /** `user@host:port` of the hop and its role, for messages. */
  target: string;
  role: string;
}

type Method = { what: string; next: () => Promise<Ssh2NextAuth | undefined> };

const AGENT_TIMEOUT_MS = 5000;

/** The authentication of one hop's connection attempt; see the module comment. */
export class HopAuth {
  readonly #context: HopAuthContext;
  readonly #methods: Method[];
  readonly #notes: string[];
  #current: string | undefined;

  private constructor(context: HopAuthContext, methods: Method[], notes: string[]) {
    this.#context = context;
    this.#methods = methods;
    // The methods add to the same list as they go (a key skipped for want of a passphrase, …).
    this.#notes = notes;
  }

  /**
   * Lists the agent's keys and reads the identity files. An identity file named in the cluster
   * config that cannot be read (or is not a key) is a {@link SshAuthError} at once.
   */
  static async prepare(context: HopAuthContext): Promise<HopAuth> {
    const notes: string[] = context.agent === undefined ? ["no ssh-agent (SSH_AUTH_SOCK is not set, or ssh.agent is none)"] : [];
    const methods: Method[] = [];
    const files = await readIdentityFiles(context, notes);
    const agent = await agentMethod(context, files, notes);
    if (agent) methods.push(agent);
    for (const file of files) methods.push(fileMethod(context, file, notes));
    return new HopAuth(context, methods, notes);
  }

  /** ssh2's `authHandler`: the next method, each time the one before was refused. */
  readonly handler: Ssh2AuthHandler = (_left, _partial, next) => {
    if (this.#current !== undefined) this.#notes.push(`${this.#current}: refused`);
    this.#current = undefined;
    void (async () => {
      for (let method = this.#methods.shift(); method; method = this.#methods.shift()) {
        const auth = await method.next().catch(() => undefined);
        if (auth) {
          this.#current = method.what;
          return next(auth);
        }
      }
      next(false);
    })();
    return undefined;
  };

  /** The error for a server that accepted none of the methods tried. */
  failure(cause?: unknown): SshAuthError {
    const { hop, target, role } = this.#context;
    if (this.#current !== undefined) this.#notes.push(`${this.#current}: refused`);
    this.#current = undefined;
    const tried = this.#notes.length > 0 ? this.#notes.join("; ") : "no agent and no key file";
    return new SshAuthError(
      target,
      hop.explicitIdentity ? hop.identityFiles[0] : undefined,
      `SSH to ${target}${role} refused: the server accepted none of the keys offered for user "${hop.user}" (tried: ${tried}). ` +
        `Check ssh.user, ssh.identityFile and the agent (ssh-add -l) in the cluster config; try: ssh -v -p ${hop.port} ${hop.user}@${hop.host}`,
      { cause },
    );
  }
}

type IdentityFile = { file: string; data: Buffer; key: Ssh2ParsedKey | undefined; encrypted: boolean; publicBlob: Buffer | undefined };

async function readIdentityFiles(context: HopAuthContext, notes: string[]): Promise<IdentityFile[]> {
  const { hop, ssh2, target } = context;
  const out: IdentityFile[] = [];
  const missing: string[] = [];
  for (const [index, file] of hop.identityFiles.entries()) {
    const explicit = hop.explicitIdentity && index === 0;
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (error) {
      if (explicit) throw new SshAuthError(target, file, `SSH to ${target}: cannot read identity file ${file}: ${(error as Error).message}`, { cause: error });
      if ((error as NodeJS.ErrnoException).code === "ENOENT") missing.push(file);
      else notes.push(`${file}: unreadable (${(error as Error).message})`);
      continue;
    }
    const publicBlob = await publicKeyOf(ssh2, `${file}.pub`);
    const parsed = context.decrypted.get(file) ?? parseKey(ssh2, data);
    if (!(parsed instanceof Error)) {
      out.push({ file, data, key: parsed, encrypted: false, publicBlob: publicBlob ?? parsed.getPublicSSH() });
    } else if (/passphrase|encrypted/i.test(parsed.message)) {
      out.push({ file, data, key: undefined, encrypted: true, publicBlob });
    } else if (explicit) {
      throw new SshAuthError(target, file, `SSH to ${target}: identity file ${file} is not a private key gpu-dag can use: ${parsed.message}`);
    } else {
      notes.push(`${file}: not a usable private key (${parsed.message})`);
    }
  }
  if (missing.length > 0) notes.push(`no key file ${missing.join(", ")}`);
  return out;
}

async function publicKeyOf(ssh2: Ssh2Module, file: string): Promise<Buffer | undefined> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const parsed = parseKey(ssh2, text);
  return parsed instanceof Error ? undefined : parsed.getPublicSSH();
}

async function agentMethod(context: HopAuthContext, files: readonly IdentityFile[], notes: string[]): Promise<Method | undefined> {
  const { ssh2, agent: socket, hop } = context;
  if (socket === undefined) return undefined;
  const agent = new ssh2.OpenSSHAgent(socket);
  let keys: Ssh2ParsedKey[];
  try {
    keys = await new Promise<Ssh2ParsedKey[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no answer")), AGENT_TIMEOUT_MS);
      agent.getIdentities((error, found) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(found ?? []);
      });
    });
  } catch (error) {
    notes.push(`agent ${socket}: cannot be reached (${(error as Error).message})`);
    return undefined;
  }
  const all = keys.length;
  if (hop.identitiesOnly) {
    const wanted = files.flatMap((f) => (f.publicBlob ? [f.publicBlob.toString("base64")] : []));
    keys = keys.filter((k) => wanted.includes(k.getPublicSSH().toString("base64")));
  }
  if (keys.length === 0) {
    notes.push(`agent ${socket}: ${all === 0 ? "holds no keys" : `none of its ${all} keys is an IdentityFile (IdentitiesOnly)`}`);
    return undefined;
  }
  // An agent offering exactly these keys (all of them, or those IdentitiesOnly allows), signing through the real one.
  const offered = keys;
  const filtered = Object.assign(Object.create(Object.getPrototypeOf(agent) as object) as Ssh2Agent, agent, {
    getIdentities: (cb: (error: Error | null, keys?: Ssh2ParsedKey[]) => void) => cb(null, offered),
  });
  return {
    what: `agent ${socket} (${offered.length} key${offered.length === 1 ? "" : "s"})`,
    next: async () => ({ type: "agent", username: hop.user, agent: filtered }),
  };
}

function fileMethod(context: HopAuthContext, identity: IdentityFile, notes: string[]): Method {
  const { hop, ssh2, prompt, decrypted } = context;
  return {
    what: identity.encrypted ? `${identity.file} (passphrase-protected)` : identity.file,
    next: async () => {
      if (identity.key) return { type: "publickey", username: hop.user, key: identity.key };
      if (!prompt) {
        notes.push(`${identity.file}: passphrase-protected, not in the agent, and no terminal to ask for its passphrase (load it with ssh-add)`);
        return undefined;
      }
      for (let tries = 0; tries < 3; tries++) {
        const passphrase = await prompt(`Enter passphrase for key '${identity.file}' (${hop.user}@${hop.host}): `);
        if (passphrase === undefined) {
          notes.push(`${identity.file}: passphrase-protected, no passphrase given`);
          return undefined;
        }
        const key = parseKey(ssh2, identity.data, passphrase);
        if (!(key instanceof Error)) {
          decrypted.set(identity.file, key);
          identity.key = key;
          return { type: "publickey", username: hop.user, key };
        }
      }
      notes.push(`${identity.file}: wrong passphrase (3 tries)`);
      return undefined;
    },
  };
}

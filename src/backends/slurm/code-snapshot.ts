/**
 * What of the user's code a run ships, decided on the machine that creates the run: the git
 * repository around `code.dir`, at `HEAD` plus every uncommitted change to tracked (or staged)
 * files, as one git tree. Its tree id is the content address: the same content gives the same id
 * whatever the commit, so an unchanged repository is never uploaded twice.
 *
 * The tree is written with a temporary index (a copy of the repository's own), so neither the
 * user's index nor a ref moves; git keeps the tree and blobs as loose objects until its garbage
 * collection, so `git archive <tree>` gives the same bytes later (a resumed run ships what it
 * started with, even if the working tree changed since). Untracked files that `.gitignore` does
 * not hide are refused, reported and left out (the default), or shipped, as `code.untracked` says.
 *
 * @module
 */
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type ClusterConfig, type CodeConfig, CodeConfigSchema, type CodeSnapshot } from "../../config/cluster-config.js";
import { validateWith } from "../../config/yaml-schema.js";
import { ConfigError } from "../../errors.js";
import { expandHome } from "./ssh-auth.js";

/** Largest archive gpu-dag ships (a repository should not carry data sets or weights). */
export const MAX_CODE_ARCHIVE_BYTES = 256 * 1024 * 1024;

/** Runs git; resolves stdout (as a Buffer when asked). */
export function git(cwd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; binary?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    execFile("git", args, { cwd, env: { ...process.env, ...options.env, GIT_TERMINAL_PROMPT: "0" }, encoding: "buffer", maxBuffer: MAX_CODE_ARCHIVE_BYTES }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stderr: stderr.toString("utf8").trim() }));
      else resolvePromise(stdout);
    });
  });
}

const text = async (p: Promise<Buffer>): Promise<string> => (await p).toString("utf8").trim();

/** Takes the snapshot of `code` (see the module comment). `cwd` resolves a relative `code.dir`. */
export async function snapshotCode(code: CodeConfig, cwd = process.cwd()): Promise<CodeSnapshot> {
  const dir = resolve(cwd, expandHome(code.dir));
  const where = `code.dir ${dir}`;
  const root = await text(git(dir, ["rev-parse", "--show-toplevel"])).catch((error: { stderr?: string }) => {
    throw new ConfigError(`${where} is not inside a git repository (gpu-dag ships git archive of HEAD plus the uncommitted diff): ${error.stderr ?? ""}`.trim(), { field: "code.dir" });
  });
  const commit = await text(git(root, ["rev-parse", "--verify", "HEAD^{commit}"])).catch(() => {
    throw new ConfigError(`${where}: the repository ${root} has no commit yet; commit once so the code has a HEAD to ship`, { field: "code.dir" });
  });
  const untracked = (await git(root, ["ls-files", "--others", "--exclude-standard", "-z"])).toString("utf8").split("\0").filter(Boolean);
  if (untracked.length > 0 && code.untracked === "refuse") {
    throw new ConfigError(
      `${where}: ${untracked.length} untracked file(s) would not be shipped: ${listed(untracked)}. Commit or git add them, list them in .gitignore, or set code.untracked: warn (ship without them) or include`,
      { field: "code.untracked" },
    );
  }
  const tree = await workingTree(root, code.untracked === "include");
  const headTree = await text(git(root, ["rev-parse", "HEAD^{tree}"]));
  if (untracked.length > 0 && code.untracked === "warn") {
    process.emitWarning(`${where}: ${untracked.length} untracked file(s) not shipped: ${listed(untracked)} (set code.untracked: include to ship them, or refuse)`, { code: "GPU_DAG_UNTRACKED" });
  }
  return { root, commit, dirty: tree !== headTree, tree, untracked };
}

/** The tree of the working copy's tracked files (and untracked ones with `includeUntracked`), written with a temporary index. */
async function workingTree(root: string, includeUntracked: boolean): Promise<string> {
  const tmp = await mkdtemp(join(tmpdir(), "gpu-dag-index-"));
  try {
    const index = join(tmp, "index");
    const own = resolve(root, await text(git(root, ["rev-parse", "--git-path", "index"])));
    const env = { GIT_INDEX_FILE: index };
    // A copy of the user's index keeps staged files and the stat cache (only changed files are re-read).
    await copyFile(own, index).catch(() => git(root, ["read-tree", "HEAD"], { env }));
    await git(root, ["add", includeUntracked ? "--all" : "--update", "--", "."], { env });
    return await text(git(root, ["write-tree"], { env }));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function listed(files: readonly string[]): string {
  return files.length > 10 ? `${files.slice(0, 10).join(", ")} and ${files.length - 10} more` : files.join(", ");
}

/** `git archive` of a snapshot's tree, gzipped: what is uploaded. */
export async function codeArchive(snapshot: CodeSnapshot): Promise<Buffer> {
  return git(snapshot.root, ["archive", "--format=tar.gz", snapshot.tree]).catch((error: { stderr?: string; code?: unknown }) => {
    throw new ConfigError(
      `code: cannot archive tree ${snapshot.tree} of ${snapshot.root} (commit ${snapshot.commit}): ${error.stderr || String(error.code)}. ` +
        "The repository must be on this machine with that tree (git gc may have pruned it: start a new run)",
      { field: "code" },
    );
  });
}

/**
 * `config` with its code (the run's `code` option over the config's) snapshot taken: what the
 * run record keeps, so every controller of the run ships the same code. Only Slurm configs ship code.
 */
export async function withCodeSnapshot<C extends ClusterConfig>(config: C, override?: string | Partial<CodeConfig>): Promise<C> {
  const given = typeof override === "string" ? { dir: override } : override;
  if (config.executor !== "slurm") {
    if (given) throw new ConfigError(`code: only Slurm clusters ship code (cluster executor is "${config.executor}"); local jobs run in this checkout`, { field: "code" });
    return config;
  }
  const wanted = given ? validateWith(CodeConfigSchema, { ...config.code, ...given, snapshot: undefined }, "run option code") : config.code;
  if (!wanted) return config;
  return { ...config, code: { ...wanted, snapshot: await snapshotCode(wanted) } };
}

/**
 * `import "gpu-dag"` must not load node-ssh / ssh2: only Slurm-over-SSH users pay for them (22
 * modules), and a user of the local backend never needs them. A child process imports the entry
 * from source (through tsx) with loader hooks that record every module it resolves, plus every
 * CommonJS file in `require.cache`.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../../..");
const FIXTURES = join(ROOT, "test", "fixtures", "module-loads");
const SSH_MODULE = /\/node_modules\/(node-ssh|ssh2|ssh2-sftp-client|cpu-features)\//;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "gpu-dag-loads-"));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Every module URL a fresh Node process loads when it imports `target`. */
async function modulesLoadedBy(target: string, name: string): Promise<string[]> {
  const { stdout } = await exec(process.execPath, ["--import", "tsx", "--import", join(FIXTURES, "record-loads.mjs"), join(FIXTURES, "import-and-list.mjs"), target], {
    cwd: ROOT,
    env: { ...process.env, GPU_DAG_LOADS_FILE: join(work, `${name}.txt`) },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout.split("\n").filter(Boolean);
}

describe('import "gpu-dag"', () => {
  it("loads no SSH module (node-ssh, ssh2): the Slurm backend loads them on its first connection", async () => {
    const loaded = await modulesLoadedBy(join(ROOT, "src", "index.ts"), "index");
    // The recorder works: the entry and its own modules are there.
    expect(loaded.some((url) => url.endsWith("/src/index.ts"))).toBe(true);
    expect(loaded.some((url) => url.endsWith("/src/backends/slurm/slurm-backend.ts"))).toBe(true);
    expect(loaded.filter((url) => SSH_MODULE.test(url))).toEqual([]);
  });

  it("the recorder does see node-ssh and ssh2 when they are loaded (so the check above can fail)", async () => {
    const loaded = await modulesLoadedBy("node-ssh", "node-ssh");
    expect(loaded.some((url) => /\/node_modules\/node-ssh\//.test(url))).toBe(true);
    expect(loaded.some((url) => /\/node_modules\/ssh2\//.test(url))).toBe(true);
  });
});

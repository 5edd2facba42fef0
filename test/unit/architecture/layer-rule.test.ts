/**
 * The layer rule (.dependency-cruiser.cjs, run by `npm test` as `npm run lint:layers`) bites: a
 * copy of `src/` with seven deliberately wrong imports added fails it with exactly those
 * violations — so the real tree, which passes, passes because it obeys the rule.
 */
import { execFile } from "node:child_process";
import { cp, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../../..");
const DEPCRUISE = join(ROOT, "node_modules", "dependency-cruiser", "bin", "dependency-cruise.mjs");

/** Wrong imports: file → its text, each breaking one rule. */
const WRONG: Record<string, string> = {
  // pipeline/ is pure: no processes.
  "src/pipeline/zz-wrong-process.ts": 'import { spawn } from "node:child_process";\nexport const run = spawn;\n',
  // runner/ knows the QueueBackend contract, not an implementation.
  "src/runner/zz-wrong-backend.ts": 'import { LocalBackend } from "../backends/local/local-backend.js";\nexport const make = () => new LocalBackend();\n',
  // Only backends/slurm talks SSH.
  "src/config/zz-wrong-ssh.ts": 'import { NodeSSH } from "node-ssh";\nexport const ssh = () => new NodeSSH();\n',
  // A low layer looking up (store → pipeline), even for a type.
  "src/store/zz-wrong-up.ts": 'import type { PipelineSpec } from "../pipeline/pipeline-spec.js";\nexport type Spec = PipelineSpec;\n',
  // Sibling backends stay independent.
  "src/backends/local/zz-wrong-sibling.ts": 'import type { Transport } from "../slurm/transport.js";\nexport type T = Transport;\n',
  // An entry program is no library module, even for its own folder.
  "src/remote/zz-wrong-entry.ts": 'export const load = () => import("./controller-main.js");\n',
  // A module outside every layer of the table.
  "src/zz-unplaced.ts": 'import { GpuDagError } from "./errors.js";\nexport const E = GpuDagError;\n',
};

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "gpu-dag-layers-"));
  await cp(join(ROOT, "src"), join(work, "src"), { recursive: true });
  for (const file of [".dependency-cruiser.cjs", "tsconfig.json"]) await cp(join(ROOT, file), join(work, file));
  await symlink(join(ROOT, "node_modules"), join(work, "node_modules"));
  for (const [file, text] of Object.entries(WRONG)) await writeFile(join(work, file), text);
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the layer rule", () => {
  it("fails on wrong imports, naming each one and nothing else", async () => {
    // The reporter `npm run lint:layers` uses: one "error <rule>: <from> → <to>" line each.
    const outcome = await exec(process.execPath, [DEPCRUISE, "--config", ".dependency-cruiser.cjs", "src"], { cwd: work, maxBuffer: 64 * 1024 * 1024 }).then(
      () => ({ code: 0, stdout: "" }),
      (error: { code?: number; stdout?: string }) => ({ code: error.code ?? -1, stdout: error.stdout ?? "" }),
    );
    expect(outcome.code, "depcruise exits with the number of errors").toBe(Object.keys(WRONG).length);
    const found = [...outcome.stdout.matchAll(/^\s*error (\S+): (\S+) → (\S+)$/gm)]
      .map(([, rule, from, to]) => `${rule}: ${from} → ${to!.replace(/^.*node_modules\/([^/]+)\/.*$/, "node_modules/$1")}`)
      .sort();
    expect(found).toEqual(
      [
        "pipeline-is-pure: src/pipeline/zz-wrong-process.ts → child_process",
        "layer-runner: src/runner/zz-wrong-backend.ts → src/backends/local/local-backend.ts",
        "ssh-only-in-slurm-backend: src/config/zz-wrong-ssh.ts → node_modules/node-ssh",
        "layer-store: src/store/zz-wrong-up.ts → src/pipeline/pipeline-spec.ts",
        "layer-backend-local: src/backends/local/zz-wrong-sibling.ts → src/backends/slurm/transport.ts",
        "layer-remote: src/remote/zz-wrong-entry.ts → src/remote/controller-main.ts",
        "in-a-layer: src/zz-unplaced.ts → src/errors.ts",
      ].sort(),
    );
  });
});

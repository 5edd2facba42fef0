/**
 * Shipping the user's code (a run's {@link CodeSnapshot}) to the cluster:
 *
 * - the archive goes to `<jobDir>/.code/<tree>.tar.gz` once per content (its git tree id): a run
 *   whose code is unchanged uploads nothing (`SlurmBackendStats.codeUploads` counts uploads);
 * - each run unpacks it once into its own `<jobDir>/<run>/code` (jobs that write next to the code
 *   touch only their run's copy);
 * - every job of the run gets it first on `PYTHONPATH` (after gpu-dag's runtime), starts in it
 *   (`code.workdir: code`, the default), and sees `GPU_DAG_CODE_DIR`, `GPU_DAG_CODE_COMMIT` and
 *   `GPU_DAG_CODE_DIRTY`.
 *
 * One exec per run when the archive is there; an upload and one more exec when it is not. A
 * controller on the cluster (`executeRemotely()`) finds the archive its submitter uploaded.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import { shellQuote } from "../../args/shell-quote.js";
import type { CodeConfig, CodeSnapshot } from "../../config/cluster-config.js";
import { BackendError } from "../../errors.js";
import { codeArchive } from "./code-snapshot.js";
import { runDirName } from "./resolve-job.js";
import type { Transport } from "./transport.js";

/** Directory of the archives under the job directory. */
export const CODE_ARCHIVES_DIR = ".code";

/** Where a run's code is unpacked. */
export function runCodeDir(jobDir: string, runId: string): string {
  return posix.join(jobDir, runDirName(runId), "code");
}

/** The program that unpacks the archive for a run (or says the archive is missing). */
export function unpackProgram(archive: string, codeDir: string, tree: string): string {
  const a = shellQuote(archive);
  const d = shellQuote(codeDir);
  const ready = shellQuote(`${codeDir}.ready`);
  return [
    "set -eu",
    `if [ "$(cat ${ready} 2>/dev/null || true)" = ${shellQuote(tree)} ]; then echo ready; exit 0; fi`,
    `if [ ! -f ${a} ]; then echo need-archive; exit 0; fi`,
    `rm -rf ${d}.tmp && mkdir -p ${d}.tmp && tar -xzf ${a} -C ${d}.tmp`,
    `rm -rf ${d} && mv ${d}.tmp ${d} && printf '%s\\n' ${shellQuote(tree)} > ${ready}`,
    "echo ready",
    "",
  ].join("\n");
}

/** The code of one backend's runs; see the module comment. */
export class ShippedCode {
  readonly #transport: Transport;
  readonly #code: CodeConfig & { snapshot: CodeSnapshot };
  readonly #onUpload: () => void;
  readonly #runs = new Map<string, Promise<string>>();

  constructor(transport: Transport, code: CodeConfig & { snapshot: CodeSnapshot }, onUpload: () => void) {
    this.#transport = transport;
    this.#code = code;
    this.#onUpload = onUpload;
  }

  /** Batch script setup lines for a job of `runId`: the run's code unpacked (shipped if need be) and put to use. */
  async setupLines(jobDir: string, runId: string): Promise<string[]> {
    let dir = this.#runs.get(runId);
    if (!dir) {
      dir = this.#unpack(jobDir, runId);
      this.#runs.set(runId, dir);
      dir.catch(() => this.#runs.delete(runId)); // tried again by the next submit
    }
    const codeDir = await dir;
    const { snapshot, workdir } = this.#code;
    return [
      `export GPU_DAG_CODE_DIR=${shellQuote(codeDir)} GPU_DAG_CODE_COMMIT=${shellQuote(snapshot.commit)} GPU_DAG_CODE_DIRTY=${snapshot.dirty ? 1 : 0}`,
      `export PYTHONPATH=${shellQuote(codeDir)}\${PYTHONPATH:+:$PYTHONPATH}`,
      ...(workdir === "code" ? [`cd ${shellQuote(codeDir)}`] : []),
    ];
  }

  async #unpack(jobDir: string, runId: string): Promise<string> {
    const { tree } = this.#code.snapshot;
    const archive = posix.join(jobDir, CODE_ARCHIVES_DIR, `${tree}.tar.gz`);
    const codeDir = runCodeDir(jobDir, runId);
    const program = unpackProgram(archive, codeDir, tree);
    let answer = await this.#run(program);
    if (answer === "need-archive") {
      const bytes = await codeArchive(this.#code.snapshot);
      const partial = `${archive}.${randomBytes(4).toString("hex")}.partial`;
      await this.#transport.exec(`mkdir -p ${shellQuote(posix.dirname(archive))}`, { idempotent: true });
      await this.#transport.writeFile(partial, bytes, { mode: 0o644 });
      this.#onUpload();
      answer = await this.#run(`mv -f ${shellQuote(partial)} ${shellQuote(archive)}\n${program}`);
    }
    if (answer !== "ready") throw new BackendError("slurm", `cannot unpack the code (tree ${tree}) into ${codeDir}: ${answer || "no answer"}`);
    return codeDir;
  }

  async #run(program: string): Promise<string> {
    const result = await this.#transport.exec("bash -s", { stdin: program, idempotent: true });
    const last = result.stdout.trim().split("\n").at(-1) ?? "";
    if (result.code !== 0) throw new BackendError("slurm", `unpacking the code failed (exit ${result.code}): ${(result.stderr || result.stdout).trim().slice(0, 500)}`);
    return last;
  }
}

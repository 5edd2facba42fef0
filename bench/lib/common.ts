/**
 * Shared bits of the benchmarks: options, statistics, machine description, the `stamp` step
 * command, JSON results and markdown tables.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";

/** The repository root. */
export const REPO = resolve(import.meta.dirname, "../..");
/** Where compiled helpers go (ignored by git). */
export const BUILD_DIR = join(REPO, "bench/.build");

/** `--name value` from argv, as a number, else `fallback`. */
export function numArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value)) throw new Error(`--${name} needs a number, got ${JSON.stringify(process.argv[i + 1])}`);
  return value;
}

/** `--name value` from argv as a string, else `fallback`. */
export function strArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}

/** True when `--name` is present. */
export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** The `q`-quantile (0..1) of `values`, linear interpolation. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Median. */
export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The machine the numbers come from. */
export function machine(): { nproc: number; cpu: string; node: string; os: string } {
  let nproc = cpus().length;
  try {
    nproc = Number(execFileSync("nproc", { encoding: "utf8" }).trim());
  } catch {
    // keep os.cpus()
  }
  return { nproc, cpu: cpus()[0]?.model.trim() ?? "unknown", node: process.version, os: `${process.platform} ${process.arch}` };
}

/**
 * The step command every contender runs: a static C helper when a C compiler is available
 * (`bench/lib/stamp.c`, compiled once into bench/.build/), else an `sh` + `date` fallback with the
 * same interface (`stamp <file> [sleep_ms]`), which costs ~2 forks more per step for everyone.
 */
export function stampCommand(): { argv: string[]; kind: "c" | "sh" } {
  const source = join(REPO, "bench/lib/stamp.c");
  const binary = join(BUILD_DIR, "stamp");
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(BUILD_DIR, { recursive: true });
    try {
      execFileSync("cc", ["-O2", "-static", "-o", binary, source], { stdio: "ignore" });
    } catch {
      try {
        execFileSync("cc", ["-O2", "-o", binary, source], { stdio: "ignore" });
      } catch {
        const script = join(BUILD_DIR, "stamp.sh");
        writeFileSync(script, '#!/bin/sh\ns=$(date +%s%N)\n[ -n "$2" ] && [ "$2" -gt 0 ] && sleep "$(echo "$2" | awk \'{print $1/1000}\')"\necho "$s $(date +%s%N)" > "$1"\n', { mode: 0o755 });
        return { argv: [script], kind: "sh" };
      }
    }
  }
  return { argv: [binary], kind: "c" };
}

/** Reads a stamp file: start and end, in ms (fractional) since the epoch. */
export function readStamp(file: string): { start: number; end: number } {
  const [start, end] = readFileSync(file, "utf8")
    .trim()
    .split(" ")
    .map((s) => Number(BigInt(s) / 1000n) / 1000);
  return { start: start!, end: end! };
}

/** A markdown table of `rows` (columns from the first row's keys). */
export function markdownTable(rows: ReadonlyArray<Record<string, unknown>>): string {
  if (rows.length === 0) return "(no rows)";
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (v === undefined ? "" : typeof v === "number" ? String(v) : String(v).replace(/\|/g, "\\|"));
  return [`| ${columns.join(" | ")} |`, `| ${columns.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${columns.map((c) => cell(r[c])).join(" | ")} |`)].join("\n");
}

/** Writes `bench/results/<name>-<YYYY-MM-DD>[suffix].json` and returns its path. */
export function writeResults(name: string, data: Record<string, unknown>): string {
  const dir = join(REPO, "bench/results");
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  // `npm run bench -- --quick` sets the suffix, so smoke runs never overwrite recorded results.
  const file = join(dir, `${name}-${date}${process.env["GPU_DAG_BENCH_SUFFIX"] ?? ""}.json`);
  const payload = {
    benchmark: name,
    date: new Date().toISOString(),
    machine: machine(),
    command: `npx tsx ${process.argv
      .slice(1)
      .map((a) => a.replace(REPO + "/", ""))
      .join(" ")}`,
    ...data,
  };
  writeFileSync(file, JSON.stringify(payload, null, 2) + "\n");
  return file;
}

/** Whether `command` is on PATH. */
export function hasCommand(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * The snakemake to compare with: `bench/.build/snakemake-venv/bin/snakemake` when that venv exists
 * (`python3 -m venv bench/.build/snakemake-venv && bench/.build/snakemake-venv/bin/pip install snakemake`),
 * else one on PATH, else `undefined`.
 */
export function snakemakeCommand(): string | undefined {
  const venv = join(BUILD_DIR, "snakemake-venv/bin/snakemake");
  if (existsSync(venv)) return venv;
  return hasCommand("snakemake") ? "snakemake" : undefined;
}

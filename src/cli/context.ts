/**
 * What every command gets from the global options: the store directory, `--debug`, and helpers
 * for printing. Kept light: heavy modules are imported by the commands that need them.
 *
 * @module
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { FileStore } from "../store/file-store.js";
import { writeOpen } from "./closed-output.js";

/** Global options (before or after the command name). */
export interface GlobalOptions {
  /** Store directory (`--home`); default `GPU_DAG_HOME`, else `~/.gpu-dag`. */
  home?: string;
  /** Print stacks of unexpected errors. */
  debug?: boolean;
}

/** The resolved global settings a command runs with. */
export interface CliContext {
  /** Absolute store directory. */
  home: string;
  debug: boolean;
  /** Whether stdout is a terminal (live redraws, no JSON unless asked). */
  isTTY: boolean;
}

/** Builds the context from the parsed global options. */
export function cliContext(options: GlobalOptions): CliContext {
  const home = resolve(options.home ?? (process.env["GPU_DAG_HOME"] || join(homedir(), ".gpu-dag")));
  return { home, debug: options.debug === true, isTTY: process.stdout.isTTY === true };
}

/** The file store at `context.home`. */
export async function openStore(context: CliContext): Promise<FileStore> {
  const { FileStore } = await import("../store/file-store.js");
  return new FileStore({ home: context.home });
}

/** Prints one JSON document on stdout. */
export function printJson(value: unknown): void {
  writeOpen(process.stdout, JSON.stringify(value, null, 2) + "\n");
}

/** Writes text to stdout. */
export function out(text: string): void {
  writeOpen(process.stdout, text);
}

/** Writes a line to stderr (hints, progress that must not mix with `--json` output). */
export function note(line: string): void {
  writeOpen(process.stderr, line + "\n");
}

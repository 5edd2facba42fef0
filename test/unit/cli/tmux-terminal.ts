/**
 * A real terminal for CLI tests: a detached tmux session of a given size, on a private tmux
 * server (its own socket), whose screen (and scrollback) the test reads with `capture-pane`.
 * `ensureTmux()` installs tmux when missing (scripts/test-env/tmux-up.sh) and throws when it cannot.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./cli-helpers.js";

/** Installs tmux if needed; throws (the test fails) when it is missing and cannot be installed. */
export function ensureTmux(): void {
  execFileSync("bash", [join(ROOT, "scripts", "test-env", "tmux-up.sh")], { stdio: ["ignore", "inherit", "inherit"] });
}

/** One detached tmux session running `command` in a `columns` × `rows` terminal. */
export class TmuxTerminal {
  readonly #socket: string;
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    this.#socket = `gpu-dag-test-${process.pid}-${columns}x${rows}-${Date.now()}`;
  }

  #tmux(args: readonly string[]): string {
    return execFileSync("tmux", ["-L", this.#socket, "-f", "/dev/null", ...args], { encoding: "utf8" });
  }

  /** Starts `command` (a shell command line) in the session; the pane stays a while after it exits. */
  start(command: string): void {
    this.#tmux(["new-session", "-d", "-s", "t", "-x", String(this.columns), "-y", String(this.rows), `${command}; sleep 600`]);
  }

  /** The pane's text: scrollback and screen, wrapped lines joined (`-J`), as the user would scroll it. */
  capture(): string {
    return this.#tmux(["capture-pane", "-p", "-J", "-S", "-", "-t", "t"]);
  }

  /** Ends the session and its server. */
  kill(): void {
    try {
      this.#tmux(["kill-server"]);
    } catch {
      // already gone
    }
  }
}

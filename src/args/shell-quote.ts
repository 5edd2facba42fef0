/**
 * POSIX shell quoting. Every user-supplied value that reaches a shell (local `sh -c`, a Slurm
 * batch script, an SSH exec) goes through {@link shellQuote}.
 *
 * @module
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes one word for a POSIX shell so that the shell reads back exactly `value`
 * (spaces, quotes, `$`, backticks, newlines and all). Safe words are left bare for readability.
 */
export function shellQuote(value: string): string {
  if (value !== "" && SAFE.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quotes every word and joins them with spaces: a command line a POSIX shell splits back into `argv`. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}

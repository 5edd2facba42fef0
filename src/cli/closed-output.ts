/**
 * A closed stdout or stderr (`gpu-dag run … | head`, a terminal that went away) must never stop
 * a run: the first EPIPE marks the stream closed and later writes to it are dropped. Without a
 * listener, Node turns the stream's `error` event into an uncaught exception that kills the
 * controller between two journal entries, leaving the run interrupted.
 *
 * @module
 */

const closed = new Set<NodeJS.WriteStream>();
let installed = false;

/** Installs the listeners on stdout and stderr (once per process). */
export function survivePipeClose(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    // EPIPE (the reader left) or any other failure of a std stream: no reason to stop a run.
    stream.on("error", () => closed.add(stream));
  }
}

/** Writes `text` to `stream` unless its reader has gone. */
export function writeOpen(stream: NodeJS.WriteStream, text: string): void {
  if (closed.has(stream) || stream.destroyed) return;
  stream.write(text);
}

/** True once `stream`'s reader has gone. */
export function isClosed(stream: NodeJS.WriteStream): boolean {
  return closed.has(stream) || stream.destroyed;
}

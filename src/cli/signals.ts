/**
 * Ctrl-C and SIGTERM while a run is driven in this process: the first cancels the run (running
 * jobs are killed, the journal records it); a second Ctrl-C exits at once (resume later).
 *
 * @module
 */

/** An AbortSignal that fires on the first SIGINT/SIGTERM; call the returned `dispose` when done. */
export function cancelOnSignals(onCancel: (signal: NodeJS.Signals) => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count += 1;
    if (count === 1) {
      onCancel(signal);
      controller.abort();
    } else if (signal === "SIGINT") {
      process.exit(130);
    }
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}

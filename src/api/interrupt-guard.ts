/**
 * Ctrl-C (SIGINT) and SIGTERM in a user's own script while `executeLocally()` drives runs in it.
 *
 * Node's default for these signals kills the process at once, and the runs' jobs — detached
 * process groups — would keep running with nobody to watch or record them. So, while at least
 * one in-process run is active, a handler is installed for each of the two signals the script
 * has no listener of its own for (checked when the run starts):
 *
 * - first signal: one line on stderr (`gpu-dag: interrupted — cancelling run X (N jobs)…`), every
 *   active run is cancelled (jobs killed, the cancellation journaled), and once they have all
 *   ended the process exits with 130 (SIGINT) or 143 (SIGTERM), as the signal would have;
 * - a second signal exits at once with its code, naming the jobs that may still run.
 *
 * The handlers are removed when the last run ends. A script that handles signals itself (it has
 * listeners, or passes `handleSignals: false` and its own `signal`) keeps full control.
 *
 * @module
 */

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
type HandledSignal = (typeof SIGNALS)[number];
const EXIT_CODE: Readonly<Record<HandledSignal, number>> = { SIGINT: 130, SIGTERM: 143 };
const WORD: Readonly<Record<HandledSignal, string>> = { SIGINT: "interrupted", SIGTERM: "terminated" };

interface GuardedRun {
  readonly runId: string;
  readonly cancel: () => void;
  jobs: () => readonly string[];
}

const runs = new Set<GuardedRun>();
const installed = new Set<HandledSignal>();
let interruptedBy: HandledSignal | undefined;

/** What {@link guardRun} gives a run. */
export interface InterruptGuard {
  /** Aborted when the process is interrupted (or when the run's own `signal` aborts). */
  readonly signal: AbortSignal;
  /** Tells the guard how to list the run's active jobs (for the messages). */
  setJobs(jobs: () => readonly string[]): void;
  /**
   * The run has ended. Resolves at once normally; after an interrupt the process exits (with
   * 130/143) once the last guarded run has ended, so this never resolves.
   */
  release(): Promise<void>;
}

/** Guards run `runId` against SIGINT/SIGTERM; see the module comment. `userSignal` is combined in. */
export function guardRun(runId: string, userSignal?: AbortSignal): InterruptGuard {
  const controller = new AbortController();
  const fromUser = () => controller.abort(userSignal?.reason);
  if (userSignal?.aborted) fromUser();
  else userSignal?.addEventListener("abort", fromUser, { once: true });
  const run: GuardedRun = { runId, cancel: () => controller.abort(new Error(`${runId}: process interrupted`)), jobs: () => [] };
  runs.add(run);
  for (const name of SIGNALS) {
    // A listener of the script's own means it handles this signal: leave it alone.
    if (installed.has(name) || process.listenerCount(name) > 0) continue;
    process.on(name, onSignal);
    installed.add(name);
  }
  if (interruptedBy) run.cancel(); // started after the interrupt (e.g. the next run of a loop)
  return {
    signal: controller.signal,
    setJobs: (jobs) => {
      run.jobs = jobs;
    },
    release: async () => {
      userSignal?.removeEventListener("abort", fromUser);
      runs.delete(run);
      if (runs.size > 0) {
        if (interruptedBy) await new Promise<never>(() => undefined); // the last run to end exits
        return;
      }
      if (interruptedBy) process.exit(EXIT_CODE[interruptedBy]);
      for (const name of installed) process.off(name, onSignal);
      installed.clear();
    },
  };
}

function onSignal(signal: NodeJS.Signals): void {
  const name = signal as HandledSignal;
  if (interruptedBy === undefined) {
    interruptedBy = name;
    const what = [...runs].map((r) => `run ${r.runId} (${plural(r.jobs().length, "job")})`).join(", ");
    process.stderr.write(`gpu-dag: ${WORD[name]} — cancelling ${what}… (Ctrl-C again leaves at once)\n`);
    for (const run of runs) run.cancel();
    if (runs.size === 0) process.exit(EXIT_CODE[name]);
    return;
  }
  const left = [...runs].filter((r) => r.jobs().length > 0);
  const mayRun = left
    .map(
      (r) =>
        `run ${r.runId}: ${r
          .jobs()
          .map((j) => `job ${j}`)
          .join(", ")}`,
    )
    .join("; ");
  const hint = left.map((r) => `\`gpu-dag cancel ${r.runId}\` or \`gpu-dag resume ${r.runId}\``).join("; ");
  process.stderr.write(`gpu-dag: ${WORD[name]} again — leaving now${mayRun ? `; may still run: ${mayRun} (${hint})` : ""}\n`);
  process.exit(EXIT_CODE[name]);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

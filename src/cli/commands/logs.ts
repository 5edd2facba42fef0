/**
 * `gpu-dag logs <run> <step>`: an attempt's stdout (or `--stderr`) from its directory in the
 * store. `-f` keeps printing what the job writes until the attempt ends. Lines rewritten with
 * carriage returns (progress bars) are shown in their last state; control characters and escape
 * sequences in the job's output are stripped before they reach the terminal.
 *
 * @module
 */
import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { STDERR_FILE, STDOUT_FILE } from "../../backends/queue-backend.js";
import { CliUsageError, ExitCode } from "../cli-error.js";
import { type CliContext, openStore, out, printJson } from "../context.js";
import { CarriageReturnCollapser } from "../progress-lines.js";
import { assertStep, loadRunView, type RunView } from "../run-view.js";
import { sanitizeForTerminal } from "../sanitize.js";

/** Options of `logs`. */
export interface LogsOptions {
  follow?: boolean;
  attempt?: string;
  stderr?: boolean;
  json?: boolean;
}

/** See the module comment. */
export async function logsCommand(context: CliContext, runId: string, step: string, options: LogsOptions): Promise<number> {
  const store = await openStore(context);
  let view = await loadRunView(store, runId);
  assertStep(view, step);
  let requested: number | undefined;
  if (options.attempt !== undefined) {
    requested = Number(options.attempt);
    if (!Number.isInteger(requested) || requested < 1) throw new CliUsageError(`--attempt must be a positive integer, got ${JSON.stringify(options.attempt)}`);
  }
  // Following a step that has not started yet: wait for its first attempt.
  while (options.follow && attemptsOf(view, step).length === 0 && (view.state === "running" || view.state === "starting")) {
    await sleep(250);
    view = await loadRunView(store, runId);
  }
  const attempts = attemptsOf(view, step);
  if (attempts.length === 0) throw new CliUsageError(`step "${step}" of run "${runId}" has no attempts yet (it is ${view.result.steps[step]?.status ?? "pending"})`);
  const attempt = requested ?? Math.max(...attempts.map((a) => a.attempt));
  if (!attempts.some((a) => a.attempt === attempt)) {
    throw new CliUsageError(`step "${step}" of run "${runId}" has no attempt ${attempt} (attempts: ${attempts.map((a) => a.attempt).join(", ")})`);
  }
  const stream = options.stderr ? "stderr" : "stdout";
  const file = join(store.attemptPath(runId, step, attempt), options.stderr ? STDERR_FILE : STDOUT_FILE);

  let text = "";
  const lines = new CarriageReturnCollapser();
  const emit = (chunk: string) => {
    const clean = sanitizeForTerminal(chunk);
    if (options.json) text += clean;
    else out(clean);
  };
  const decoder = new StringDecoder("utf8");
  const read = (b: Buffer) => emit(lines.push(decoder.write(b)));
  let offset = await copyFrom(file, 0, read);
  if (options.follow) {
    for (;;) {
      const ended = !isInFlight(await loadRunView(store, runId), step, attempt);
      offset = await copyFrom(file, offset, read);
      if (ended) break;
      await sleep(200);
    }
  }
  emit(lines.push(decoder.end()) + lines.end());
  if (options.json) printJson({ runId, step, attempt, stream, file, text });
  return ExitCode.Ok;
}

function attemptsOf(view: RunView, step: string) {
  return view.stored.replay.steps.get(step)?.attempts ?? [];
}

/** True while the attempt may still write: not ended in the journal, and the run not over. */
function isInFlight(view: RunView, step: string, attempt: number): boolean {
  const a = attemptsOf(view, step).find((x) => x.attempt === attempt);
  return a !== undefined && a.status === undefined && (view.state === "running" || view.state === "starting");
}

/** Copies `file` from `offset` to `sink`; returns the new offset (the file may not exist yet). */
async function copyFrom(file: string, offset: number, sink: (bytes: Buffer) => void): Promise<number> {
  const info = await stat(file).catch(() => undefined);
  if (!info || info.size <= offset) return offset;
  const handle = await open(file, "r");
  try {
    let position = offset;
    const buffer = Buffer.alloc(64 * 1024);
    while (position < info.size) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, info.size - position), position);
      if (bytesRead === 0) break;
      sink(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
    return position;
  } finally {
    await handle.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The shell programs the backend sends to the cluster, one per round trip (polling, cancelling;
 * submitting is `submit-program.ts`), and pure parsers of what they print. Each program is sent on stdin to `bash -s` (never on the command line, so no
 * value shows in `ps` and no length limit applies) and wrapped in a function that runs with
 * stdin from /dev/null, so no command inside can swallow the rest of the program.
 *
 * @module
 */
import { posix } from "node:path";
import { shellQuote } from "../../args/shell-quote.js";
import { EXIT_CODE_FILE, SECRET_ENV_FILE, TIME_LIMIT_MARK } from "./batch-script.js";
import { assertJobIds, DEFINE_SEP, FIELD_SEP, squeueCommand } from "./slurm-output.js";

/** Command that runs a program read from stdin. */
export const RUN_STDIN = "bash -s";

/**
 * `body` as a program: a function (so nothing runs before all of it arrived) with `$d` defined
 * as the field separator, run with stdin from /dev/null.
 */
export function wrapProgram(body: readonly string[]): string {
  return ["__gd_main() {", DEFINE_SEP, ...body, "}", "__gd_main </dev/null", ""].join("\n");
}

/** Marker separating squeue output from exit-code markers in {@link pollProgram}'s output. */
export const MARKERS_LINE = "@@gd-markers@@";

/**
 * One program per poll cycle: `squeue` for all ids, then the exit-code marker of every job whose
 * attempt directory is known (read with bash builtins: no process per job).
 */
export function pollProgram(jobIds: readonly string[], markerDirs: ReadonlyMap<string, string>): string {
  assertJobIds(jobIds);
  const body = [`${squeueCommand(jobIds)} || true`, `echo ${MARKERS_LINE}`];
  for (const [id, dir] of markerDirs) {
    assertJobIds([id]);
    const file = shellQuote(posix.join(dir, EXIT_CODE_FILE));
    body.push(`__c=; { read -r __c < ${file}; } 2>/dev/null; printf '%s${FIELD_SEP}%s\\n' ${id} "$__c"`);
  }
  return wrapProgram(body);
}

/**
 * Splits {@link pollProgram} output into squeue text, `jobId → exit code` markers, and the ids
 * whose marker says the watchdog stopped them at their time limit (`124 time-limit`).
 */
export function parsePollOutput(text: string): { squeue: string; markers: Map<string, number>; timedOut: Set<string> } {
  const at = text.indexOf(`${MARKERS_LINE}\n`);
  const squeue = at < 0 ? text : text.slice(0, at);
  const markers = new Map<string, number>();
  const timedOut = new Set<string>();
  if (at >= 0) {
    const marker = new RegExp(`^(\\d+)( ${TIME_LIMIT_MARK})?$`);
    for (const line of text.slice(at + MARKERS_LINE.length + 1).split("\n")) {
      const [id, code] = line.split(FIELD_SEP);
      const match = id && code !== undefined ? marker.exec(code.trim()) : null;
      if (!id || !match) continue;
      markers.set(id, Number(match[1]));
      if (match[2]) timedOut.add(id);
    }
  }
  return { squeue, markers, timedOut };
}

/** `scancel` for the ids, plus removal of secret files of jobs that may never have started. */
export function cancelProgram(jobIds: readonly string[], dirs: readonly string[]): string {
  assertJobIds(jobIds);
  const secrets = dirs.map((dir) => shellQuote(posix.join(dir, SECRET_ENV_FILE)));
  return wrapProgram([...(jobIds.length > 0 ? [`scancel ${jobIds.join(" ")} 2>&1 || true`] : []), ...(secrets.length > 0 ? [`rm -f -- ${secrets.join(" ")}`] : [])]);
}

/**
 * The shell programs the backend sends to the cluster, one per round trip, and pure parsers of
 * what they print. Each program is sent on stdin to `bash -s` (never on the command line, so no
 * value shows in `ps` and no length limit applies) and wrapped in a function that runs with
 * stdin from /dev/null, so no command inside can swallow the rest of the program.
 *
 * @module
 */
import { posix } from "node:path";
import { shellQuote } from "../../args/shell-quote.js";
import { EXIT_CODE_FILE, SCRIPT_FILE, SECRET_ENV_FILE, TIME_LIMIT_MARK } from "./batch-script.js";
import { assertJobIds, DEFINE_SEP, FIELD_SEP, squeueCommand } from "./slurm-output.js";

/** Command that runs a program read from stdin. */
export const RUN_STDIN = "bash -s";

function wrap(body: readonly string[]): string {
  return ["__gd_main() {", DEFINE_SEP, ...body, "}", "__gd_main </dev/null", ""].join("\n");
}

/** One job to submit. */
export interface SubmitItem {
  jobName: string;
  remoteAttemptDir: string;
  script: string;
  /** Text of the 0600 secret env file, or `undefined` for none. */
  secretEnv?: string;
}

/**
 * One program that writes every script (and secret file, created under umask 077) and runs
 * `sbatch --parsable` for each, printing `OK␟index␟jobId` or `ERR␟index␟message`; it stops at
 * the first failure. With `reuseExisting`, a job whose name Slurm already knows (a retry after a
 * dropped connection) is reported with its existing id instead of being submitted twice.
 */
export function submitProgram(items: readonly SubmitItem[], options: { reuseExisting?: boolean } = {}): string {
  const body: string[] = [];
  if (options.reuseExisting) {
    body.push("declare -A __gd_known=()", `while IFS="$d" read -r __id __name; do __gd_known["$__name"]=$__id; done < <(squeue -h -t all -u "$(id -un)" -o "%i$d%j" 2>/dev/null || true)`);
  }
  items.forEach((item, index) => {
    const dir = shellQuote(item.remoteAttemptDir);
    const script = shellQuote(posix.join(item.remoteAttemptDir, SCRIPT_FILE));
    const secret = shellQuote(posix.join(item.remoteAttemptDir, SECRET_ENV_FILE));
    const name = shellQuote(item.jobName);
    const submit = [
      `mkdir -p -- ${dir} || { printf 'ERR${FIELD_SEP}%s${FIELD_SEP}%s\\n' ${index} "cannot create "${dir}; return; }`,
      `rm -f -- ${shellQuote(posix.join(item.remoteAttemptDir, EXIT_CODE_FILE))}`,
      `printf '%s' ${shellQuote(item.script)} > ${script}`,
      ...(item.secretEnv !== undefined ? [`(umask 077; printf '%s' ${shellQuote(item.secretEnv)} > ${secret})`] : []),
      `if __out=$(sbatch --parsable ${script} 2>&1); then printf 'OK${FIELD_SEP}%s${FIELD_SEP}%s\\n' ${index} "\${__out%%;*}"; else printf 'ERR${FIELD_SEP}%s${FIELD_SEP}%s\\n' ${index} "\${__out//$'\\n'/ }"; return; fi`,
    ];
    if (options.reuseExisting) {
      body.push(`if [ -n "\${__gd_known[${name}]:-}" ]; then printf 'OK${FIELD_SEP}%s${FIELD_SEP}%s\\n' ${index} "\${__gd_known[${name}]}"; else`, ...submit.map((l) => `  ${l}`), "fi");
    } else {
      body.push(...submit);
    }
  });
  return wrap(body);
}

/** What {@link submitProgram} printed. */
export interface SubmitOutcome {
  ok: Map<number, string>;
  errors: Map<number, string>;
}

/** Parses {@link submitProgram} output. */
export function parseSubmitOutput(text: string): SubmitOutcome {
  const ok = new Map<number, string>();
  const errors = new Map<number, string>();
  for (const line of text.split("\n")) {
    const [tag, index, rest] = line.split(FIELD_SEP);
    if (index === undefined || rest === undefined || !/^\d+$/.test(index)) continue;
    if (tag === "OK" && /^\d+$/.test(rest.trim())) ok.set(Number(index), rest.trim());
    else if (tag === "ERR" || tag === "OK") errors.set(Number(index), rest.trim() || "sbatch printed nothing");
  }
  return { ok, errors };
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
  return wrap(body);
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
  return wrap([...(jobIds.length > 0 ? [`scancel ${jobIds.join(" ")} 2>&1 || true`] : []), ...(secrets.length > 0 ? [`rm -f -- ${secrets.join(" ")}`] : [])]);
}

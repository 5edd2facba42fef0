/**
 * Commands that ask Slurm about many jobs at once, and pure parsers of their output.
 *
 * Fields are separated by ASCII unit separator (0x1F), which job names in practice never
 * contain, and the job name is always the last field: a name with spaces, pipes, quotes or
 * even 0x1F itself cannot shift the other fields. Records are lines (Slurm never prints a
 * newline inside a job name it accepted through gpu-dag: names come from {@link jobNameFor}).
 *
 * @module
 */
import type { SlurmJobInfo } from "./slurm-state.js";
import { parseExitSignal, parseSlurmTime, splitWaitStatus } from "./slurm-state.js";

/** Field separator used in every Slurm query (ASCII unit separator). */
export const FIELD_SEP = "\u001f";

/** Shell snippet that defines `$d` as {@link FIELD_SEP} without putting the byte in a command line. */
export const DEFINE_SEP = `d=$(printf '\\037')`;

// JobArrayID: `123` for a single job, `123_4` for an array element (JobID would be its raw id).
const SQUEUE_FIELDS = ["JobArrayID", "State", "exit_code", "Reason", "NodeList", "StartTime", "Name"] as const;

/**
 * `squeue` for the given ids in every state Slurm still remembers (`-t all`: finished jobs stay
 * for `MinJobAge`), one line per job and per array element (`-r`: a pending array's elements
 * each get their own line, `123_4`). Needs {@link DEFINE_SEP} before it. Ids must be numeric
 * (`123` or `123_4`).
 */
export function squeueCommand(jobIds: readonly string[]): string {
  assertJobIds(jobIds);
  const format = SQUEUE_FIELDS.map((f, i) => (i === SQUEUE_FIELDS.length - 1 ? `${f}:` : `${f}:$d`)).join(",");
  return `squeue -h -r -t all -j ${jobIds.join(",")} -O "${format}" 2>/dev/null`;
}

/** Parses {@link squeueCommand} output. Lines that do not parse are skipped. */
export function parseSqueue(text: string): SlurmJobInfo[] {
  const jobs: SlurmJobInfo[] = [];
  for (const line of text.split("\n")) {
    const fields = splitFields(line, SQUEUE_FIELDS.length);
    if (!fields) continue;
    const [jobId, state, exit, reason, nodes, start, name] = fields as [string, string, string, string, string, string, string];
    if (!/^\d+(_\d+)?$/.test(jobId.trim())) continue;
    const raw = Number(exit.trim());
    const { exitCode, signal } = Number.isInteger(raw) ? splitWaitStatus(raw) : { exitCode: null, signal: null };
    const startedAt = parseSlurmTime(start);
    jobs.push({
      jobId: jobId.trim(),
      state: state.trim(),
      reason: reason.trim(),
      exitCode,
      signal,
      nodes: nodes.trim(),
      ...(startedAt !== undefined ? { startedAt } : {}),
      name,
    });
  }
  return jobs;
}

// JobID: `123`, or `123_4` for an array element (JobIDRaw would be its raw id).
const SACCT_FIELDS = ["JobID", "State", "ExitCode", "Reason", "NodeList", "Start", "JobName"] as const;

/**
 * `sacct` for ids that left `squeue` (needs slurmdbd on the cluster; without it the command fails
 * quietly and prints nothing). `extra` may be `-c` to read a `jobcomp/filetxt` log instead.
 */
export function sacctCommand(jobIds: readonly string[], extra = ""): string {
  assertJobIds(jobIds);
  return `sacct ${extra} -n -X -P --delimiter="$d" -o ${SACCT_FIELDS.join(",")} -j ${jobIds.join(",")} 2>/dev/null`.replace(/\s+/g, " ");
}

/** Parses {@link sacctCommand} output. */
export function parseSacct(text: string): SlurmJobInfo[] {
  const jobs: SlurmJobInfo[] = [];
  for (const line of text.split("\n")) {
    const fields = splitFields(line, SACCT_FIELDS.length);
    if (!fields) continue;
    const [jobId, state, exit, reason, nodes, start, name] = fields as [string, string, string, string, string, string, string];
    if (!/^\d+(_\d+)?$/.test(jobId.trim())) continue;
    const startedAt = parseSlurmTime(start);
    jobs.push({
      jobId: jobId.trim(),
      state: state.trim(),
      reason: reason.trim(),
      ...parseExitSignal(exit),
      nodes: nodes.trim(),
      ...(startedAt !== undefined ? { startedAt } : {}),
      name,
    });
  }
  return jobs;
}

/**
 * Splits a line into exactly `count` fields on {@link FIELD_SEP}; the last field keeps any
 * further separators (it is the job name). `undefined` for lines with too few fields.
 */
export function splitFields(line: string, count: number): string[] | undefined {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  const fields: string[] = [];
  let from = 0;
  for (let i = 0; i < count - 1; i++) {
    const at = text.indexOf(FIELD_SEP, from);
    if (at < 0) return undefined;
    fields.push(text.slice(from, at));
    from = at + 1;
  }
  fields.push(text.slice(from));
  return fields;
}

/** Throws unless every id is a Slurm job id (digits, optionally `_task`): they go into a shell command. */
export function assertJobIds(jobIds: readonly string[]): void {
  for (const id of jobIds) {
    if (!/^\d+(_\d+)?$/.test(id)) throw new TypeError(`not a Slurm job id: ${JSON.stringify(id)}`);
  }
}

/** True when `id` looks like a Slurm job id. */
export function isSlurmJobId(id: string): boolean {
  return /^\d+(_\d+)?$/.test(id);
}

/** What {@link parseArrayLimits} reads from `scontrol show config`. */
export const SCONTROL_CONFIG = "scontrol show config";

/** Largest array (in elements) when the cluster's config cannot be read: Slurm's default. */
export const DEFAULT_MAX_ARRAY_SIZE = 1001;

/**
 * The most elements one array job may have, from `scontrol show config` output: `MaxArraySize`
 * (indices run 0 … MaxArraySize − 1), lowered by `max_array_tasks` in `SchedulerParameters`
 * when set. {@link DEFAULT_MAX_ARRAY_SIZE} when neither can be read. 0 or 1: no arrays.
 */
export function parseArrayLimits(text: string): number {
  const size = /^MaxArraySize\s*=\s*(\d+)\s*$/m.exec(text);
  const tasks = /^SchedulerParameters\s*=.*\bmax_array_tasks=(\d+)/m.exec(text);
  const max = size ? Number(size[1]) : DEFAULT_MAX_ARRAY_SIZE;
  return tasks ? Math.min(max, Number(tasks[1])) : max;
}

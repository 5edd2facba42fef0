/**
 * The one remote program that submits a whole batch (single jobs and job arrays), and a pure
 * parser of what it prints. Sent on stdin to `bash -s` like every program of `remote-scripts.ts`.
 *
 * It writes every script, secret file (0600: created under umask 077) and input file, and runs
 * `sbatch --parsable` once per single job and once per array, printing one line per job:
 *
 * - `OK␟index␟jobId` submitted now (`jobId` is `<array>_<task>` for an array element),
 * - `RE␟index␟jobId` found already submitted (with `reuseExisting`),
 * - `ERR␟index␟message` refused; the program stops at the first refusal,
 * - `SB␟single` or `SB␟array␟n` (`n` tasks) before each `sbatch`, so the backend counts
 *   submissions exactly.
 *
 * An array's files are written with builtins and one `mkdir` and one `rm` for all its elements
 * (no process per element). With `reuseExisting` (resume after a crash between sbatch and the
 * journal), Slurm's jobs are listed once first: a single job is found by its name, an array
 * element through its array's element list (`index␟jobName` lines in the array's directory,
 * read for each live array of the user) and the array task Slurm still lists for it. Found jobs
 * are never submitted again and their files are left alone; the elements of an array not found
 * are submitted as that array with only their own indices (`--array=1,3%K`).
 *
 * @module
 */
import { posix } from "node:path";
import { shellQuote } from "../../args/shell-quote.js";
import { ARRAY_ELEMENTS_FILE, ARRAYS_DIR } from "./array-script.js";
import { EXIT_CODE_FILE, SCRIPT_FILE, SECRET_ENV_FILE } from "./batch-script.js";
import { inputFileDirs } from "./input-files.js";
import { wrapProgram } from "./remote-scripts.js";
import { FIELD_SEP } from "./slurm-output.js";
import type { ArraySubmitItem, IndexedItem, SubmitBatch, SubmitItem } from "./submit-batch.js";

const F = FIELD_SEP;
/** Prints a tagged line: `line("OK", '"$i"', '"$id"')`. */
const line = (tag: string, ...args: string[]): string => `printf '${tag}${args.map(() => `${F}%s`).join("")}\\n' ${args.join(" ")}`;
/** The last line of sbatch's output, without a `;cluster` suffix: the id. */
const ID_FROM_OUT = `__id=\${__out##*$'\\n'}; __id=\${__id%%;*}`;

/** Fills `__gd_known[jobName] = jobId` from every job of the user Slurm still lists. */
function lookupLines(): string[] {
  return [
    "declare -A __gd_known=() __gd_seen=() __gd_el=()",
    'while IFS="$d" read -r __id __arr __task __wd __name; do',
    '  if [[ "$__task" =~ ^[0-9]+$ ]]; then',
    '    if [ -z "${__gd_seen[$__arr]:-}" ]; then',
    "      __gd_seen[$__arr]=1",
    `      if [[ "$__wd" == */${ARRAYS_DIR}/* ]] && [ -f "$__wd/${ARRAY_ELEMENTS_FILE}" ]; then`,
    `        while IFS="$d" read -r __i __n; do __gd_el["$__arr $__i"]=$__n; done < "$__wd/${ARRAY_ELEMENTS_FILE}"`,
    "      fi",
    "    fi",
    '    __n=${__gd_el["$__arr $__task"]:-}',
    '    if [ -n "$__n" ]; then __gd_known["$__n"]=${__arr}_$__task; fi',
    "  else",
    '    __gd_known["$__name"]=$__id',
    "  fi",
    `done < <(squeue -h -r -t all -u "$(id -un)" -o "%i$d%F$d%K$d%Z$d%j" 2>/dev/null || true)`,
  ];
}

/** Lines writing one item's script, secret and input files (mkdir done before). */
function writeLines(item: SubmitItem, withSecret: boolean): string[] {
  const file = (name: string) => shellQuote(posix.join(item.remoteAttemptDir, name));
  return [
    `printf '%s' ${shellQuote(item.script)} > ${file(SCRIPT_FILE)}`,
    ...(item.inputFiles ?? []).map((f) => `printf '%s' ${shellQuote(f.content)} > ${file(f.path)}`),
    ...(withSecret && item.secretEnv !== undefined ? [`(umask 077; printf '%s' ${shellQuote(item.secretEnv)} > ${file(SECRET_ENV_FILE)})`] : []),
  ];
}

/** Directories an item needs: its attempt directory and its input files' parents. */
function dirsOf(item: SubmitItem): string[] {
  return [item.remoteAttemptDir, ...inputFileDirs(item.inputFiles ?? []).map((d) => posix.join(item.remoteAttemptDir, d))];
}

function singleLines(item: IndexedItem, reuse: boolean): string[] {
  const i = item.specIndex;
  const dirs = dirsOf(item).map(shellQuote).join(" ");
  const submit = [
    `mkdir -p -- ${dirs} || { ${line("ERR", String(i), `"cannot create "${shellQuote(item.remoteAttemptDir)}`)}; return; }`,
    `rm -f -- ${shellQuote(posix.join(item.remoteAttemptDir, EXIT_CODE_FILE))}`,
    ...writeLines(item, true),
    line("SB", "single"),
    `if __out=$(sbatch --parsable ${shellQuote(posix.join(item.remoteAttemptDir, SCRIPT_FILE))} 2>&1); then ${ID_FROM_OUT}; ${line("OK", String(i), '"$__id"')}; else ${line("ERR", String(i), `"\${__out//$'\\n'/ }"`)}; return; fi`,
  ];
  if (!reuse) return submit;
  const name = shellQuote(item.jobName);
  return [`if [ -n "\${__gd_known[${name}]:-}" ]; then ${line("RE", String(i), `"\${__gd_known[${name}]}"`)}; else`, ...submit.map((l) => `  ${l}`), "fi"];
}

function arrayLines(array: ArraySubmitItem, u: number, reuse: boolean): string[] {
  const n = array.elements.length;
  const fail = (message: string) => `for __i in "\${__gd_todo[@]}"; do ${line("ERR", '"${__gd_specs[__i]}"', message)}; done; return`;
  const out = [`# array ${u}: ${n} elements`, `__gd_specs=(${array.elements.map((e) => e.specIndex).join(" ")})`];
  if (reuse) {
    out.push(
      `__gd_names=(${array.elements.map((e) => shellQuote(e.jobName)).join(" ")})`,
      "__gd_todo=(); declare -A __gd_do=()",
      'for __i in "${!__gd_specs[@]}"; do',
      "  __n=${__gd_names[__i]}",
      `  if [ -n "\${__gd_known[$__n]:-}" ]; then ${line("RE", '"${__gd_specs[__i]}"', '"${__gd_known[$__n]}"')}; __gd_arr[${u}]=\${__gd_known[$__n]%%_*}; else __gd_todo+=("$__i"); __gd_do[$__i]=1; fi`,
      "done",
    );
  } else {
    out.push(`__gd_todo=(${array.elements.map((_, i) => i).join(" ")})`);
  }
  const body: string[] = [
    `mkdir -p -- ${[array.arrayDir, ...array.elements.flatMap(dirsOf)].map(shellQuote).join(" ")} || { ${fail(`"cannot create the directories of array "${shellQuote(array.jobName)}`)}; }`,
    "__gd_rm=()",
  ];
  const guarded = (i: number, lines: string[]) => (reuse ? [`if [ -n "\${__gd_do[${i}]:-}" ]; then`, ...lines.map((l) => `  ${l}`), "fi"] : lines);
  array.elements.forEach((e, i) => {
    body.push(...guarded(i, [`__gd_rm+=(${shellQuote(posix.join(e.remoteAttemptDir, EXIT_CODE_FILE))})`, ...writeLines(e, false)]));
  });
  body.push('rm -f -- "${__gd_rm[@]}"');
  const secrets = array.elements.flatMap((e, i) =>
    e.secretEnv === undefined ? [] : guarded(i, [`printf '%s' ${shellQuote(e.secretEnv)} > ${shellQuote(posix.join(e.remoteAttemptDir, SECRET_ENV_FILE))}`]),
  );
  if (secrets.length > 0) body.push("__gd_umask=$(umask); umask 077", ...secrets, 'umask "$__gd_umask"');
  const elementsText = array.elements.map((e, i) => `${i}${F}${e.jobName}\n`).join("");
  const script = shellQuote(posix.join(array.arrayDir, SCRIPT_FILE));
  body.push(
    `printf '%s' ${shellQuote(elementsText)} > ${shellQuote(posix.join(array.arrayDir, ARRAY_ELEMENTS_FILE))}`,
    `printf '%s' ${shellQuote(array.script)} > ${script}`,
    "__gd_args=()",
    // Some elements found already submitted: the others alone, as this array with their indices.
    `if [ "\${#__gd_todo[@]}" -ne ${n} ]; then printf -v __gd_list '%s,' "\${__gd_todo[@]}"; __gd_args+=("--array=\${__gd_list%,}${array.throttle !== undefined ? `%${array.throttle}` : ""}"); fi`,
    ...(array.after !== undefined ? [`if [ -n "\${__gd_arr[${array.after}]:-}" ]; then __gd_args+=("--dependency=afterany:\${__gd_arr[${array.after}]}"); fi`] : []),
    line("SB", "array", '"${#__gd_todo[@]}"'),
    `if __out=$(sbatch --parsable "\${__gd_args[@]}" ${script} 2>&1); then`,
    `  ${ID_FROM_OUT}; __gd_arr[${u}]=$__id`,
    `  for __i in "\${__gd_todo[@]}"; do ${line("OK", '"${__gd_specs[__i]}"', '"${__id}_$__i"')}; done`,
    `else __e=\${__out//$'\\n'/ }; ${fail('"$__e"')}; fi`,
  );
  return [...out, 'if [ "${#__gd_todo[@]}" -gt 0 ]; then', ...body.map((l) => `  ${l}`), "fi"];
}

/**
 * The program for `batch` (see the module comment). A plain list of items is a batch of single
 * jobs, each item's index its spec index.
 */
export function submitProgram(batch: SubmitBatch | readonly SubmitItem[], options: { reuseExisting?: boolean } = {}): string {
  const { singles, arrays } = Array.isArray(batch) ? { singles: batch.map((item, specIndex) => ({ ...item, specIndex })), arrays: [] } : (batch as SubmitBatch);
  const reuse = options.reuseExisting ?? false;
  const body: string[] = [...(reuse ? lookupLines() : []), "declare -A __gd_arr=()"];
  for (const item of singles) body.push(...singleLines(item, reuse));
  arrays.forEach((array, u) => {
    body.push(...arrayLines(array, u, reuse));
  });
  return wrapProgram(body);
}

/** What {@link submitProgram} printed. */
export interface SubmitOutcome {
  /** Spec index → job id, submitted now or found (`reused`). */
  ok: Map<number, string>;
  /** Spec indices whose job was found already submitted. */
  reused: Set<number>;
  errors: Map<number, string>;
  /** `sbatch` invocations. */
  sbatchCalls: number;
  /** Of those, for arrays. */
  arrayCalls: number;
}

/** Parses {@link submitProgram} output. */
export function parseSubmitOutput(text: string): SubmitOutcome {
  const outcome: SubmitOutcome = { ok: new Map(), reused: new Set(), errors: new Map(), sbatchCalls: 0, arrayCalls: 0 };
  for (const row of text.split("\n")) {
    const [tag, index, rest] = row.split(F);
    if (tag === "SB") {
      outcome.sbatchCalls++;
      if (index === "array") outcome.arrayCalls++;
      continue;
    }
    if (index === undefined || rest === undefined || !/^\d+$/.test(index)) continue;
    const id = rest.trim();
    if ((tag === "OK" || tag === "RE") && /^\d+(_\d+)?$/.test(id)) {
      outcome.ok.set(Number(index), id);
      if (tag === "RE") outcome.reused.add(Number(index));
    } else if (tag === "ERR" || tag === "OK" || tag === "RE") outcome.errors.set(Number(index), id || "sbatch printed nothing");
  }
  return outcome;
}

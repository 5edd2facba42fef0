/**
 * The file store's record of step run times (`<home>/runtimes.jsonl`): one line per run,
 * `{"at": ms, "times": {key: ms, …}}`, appended when the run ends. Read whole: for each key the
 * most recent {@link KEEP} times. They are estimates for scheduling, not records: a lost or torn
 * line costs a worse priority, never a wrong result, so nothing here is fsynced, and lines that
 * do not parse are skipped. Once the file passes {@link COMPACT_BYTES} it is rewritten (atomically)
 * with only what is kept.
 *
 * @module
 */
import { appendFile, readFile, stat } from "node:fs/promises";
import { atomicWrite } from "./atomic-write.js";

/** The file's name under a store's home. */
export const RUN_TIMES_FILE = "runtimes.jsonl";
/** Times kept per key. */
const KEEP = 5;
/** Size past which the file is rewritten with only the kept times. */
const COMPACT_BYTES = 8 * 2 ** 20;

/** For each key of `keys` (all when `undefined`) with recorded times: the most recent, oldest first. */
export async function readRunTimes(file: string, keys?: readonly string[]): Promise<Map<string, number[]>> {
  const text = await readFile(file, "utf8").catch(() => "");
  const wanted = keys ? new Set(keys) : undefined;
  const times = new Map<string, number[]>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let parsed: { times?: Record<string, unknown> };
    try {
      parsed = JSON.parse(line) as { times?: Record<string, unknown> };
    } catch {
      continue;
    }
    for (const [key, ms] of Object.entries(parsed.times ?? {})) {
      if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0 || (wanted && !wanted.has(key))) continue;
      const list = times.get(key) ?? [];
      list.push(ms);
      if (list.length > KEEP) list.shift();
      times.set(key, list);
    }
  }
  return times;
}

/** Appends one run's `times` to `file` (compacting it first when it grew past its bound). */
export async function appendRunTimes(file: string, times: ReadonlyMap<string, number>): Promise<void> {
  const size = (await stat(file).catch(() => undefined))?.size ?? 0;
  if (size > COMPACT_BYTES) {
    const kept = await readRunTimes(file);
    const lines: string[] = [];
    for (let i = 0; i < KEEP; i++) {
      const round: Record<string, number> = {};
      for (const [key, list] of kept) if (list[i] !== undefined) round[key] = list[i]!;
      if (Object.keys(round).length > 0) lines.push(JSON.stringify({ at: Date.now(), times: round }));
    }
    await atomicWrite(file, lines.map((l) => `${l}\n`).join(""));
  }
  await appendFile(file, `${JSON.stringify({ at: Date.now(), times: Object.fromEntries(times) })}\n`);
}

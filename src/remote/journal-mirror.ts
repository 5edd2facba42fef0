/**
 * Moving a run's journal between the local store and a cluster's store without ever losing an
 * entry. A journal is append-only, so of two copies of one run's journal the one that is a prefix
 * of the other is older: copying only ever appends the entries the older copy lacks. Copies that
 * diverged (each has entries the other lacks) are never overwritten; the caller is told instead.
 * Only complete lines are copied: a torn last line (an append in progress) waits for next time.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { appendFile, open, readFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { shellQuote } from "../args/shell-quote.js";
import type { Transport } from "../backends/slurm/transport.js";
import type { Store } from "../store/store.js";
import type { RemoteRunInfo } from "./remote-run-info.js";

/** How two copies of a journal relate, from the point of view of the one being updated. */
export type JournalDelta = { kind: "same" } | { kind: "appended"; suffix: Buffer; entries: number } | { kind: "local-ahead" } | { kind: "diverged"; detail: string };

/** Outcome of a copy: the delta, without the bytes. */
export type MirrorOutcome = { kind: "same" | "local-ahead" } | { kind: "appended"; entries: number } | { kind: "diverged"; detail: string };

/** Compares `target` (the copy to update) with `source`; see the module comment. */
export function journalDelta(target: Buffer, source: Buffer): JournalDelta {
  const complete = source.subarray(0, source.lastIndexOf(0x0a) + 1);
  if (complete.equals(target)) return { kind: "same" };
  if (complete.length > target.length && complete.subarray(0, target.length).equals(target)) {
    const suffix = complete.subarray(target.length);
    return { kind: "appended", suffix, entries: suffix.toString("utf8").split("\n").length - 1 };
  }
  if (target.length > complete.length && target.subarray(0, complete.length).equals(complete)) return { kind: "local-ahead" };
  const a = target.toString("utf8").split("\n");
  const b = complete.toString("utf8").split("\n");
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return { kind: "diverged", detail: `the copies differ from entry ${i + 1} on (${a.length - 1} entries here, ${b.length - 1} there)` };
}

function outcomeOf(delta: JournalDelta): MirrorOutcome {
  return delta.kind === "appended" ? { kind: "appended", entries: delta.entries } : delta;
}

/** Path of a run's journal in the cluster's store. */
export function remoteJournalPath(info: Pick<RemoteRunInfo, "storeDir">, runId: string): string {
  return posix.join(info.storeDir, "runs", runId, "journal.jsonl");
}

/**
 * Appends to the local journal the entries the cluster's copy has and the local one lacks. A local
 * journal with newer entries, or one that diverged, is left as it is (the outcome says so).
 */
export async function mirrorRemoteJournal(store: Store, runId: string, info: RemoteRunInfo, transport: Transport): Promise<MirrorOutcome> {
  const remote = await transport.readFile(remoteJournalPath(info, runId));
  if (!remote) return { kind: "same" };
  const file = join(store.runDir(runId), "journal.jsonl");
  const local = await readFile(file).catch(() => Buffer.alloc(0));
  const delta = journalDelta(local, remote.data);
  if (delta.kind === "appended") {
    await appendFile(file, delta.suffix);
    const handle = await open(file, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  return outcomeOf(delta);
}

/**
 * Brings the cluster's journal up to the local one before a controller starts there (the local
 * copy may have entries of a local controller that drove the run meanwhile). Throws when the
 * cluster's copy has entries the local one lacks: those must be mirrored here first.
 */
export async function pushJournal(store: Store, runId: string, info: Pick<RemoteRunInfo, "storeDir">, transport: Transport): Promise<MirrorOutcome> {
  const path = remoteJournalPath(info, runId);
  const remote = (await transport.readFile(path))?.data ?? Buffer.alloc(0);
  const local = await readFile(join(store.runDir(runId), "journal.jsonl")).catch(() => Buffer.alloc(0));
  const delta = journalDelta(remote, local);
  if (delta.kind === "local-ahead" || delta.kind === "diverged") {
    throw new Error(`run ${runId}: the cluster's journal (${path}) has entries the local one lacks (${delta.kind === "diverged" ? delta.detail : "it is longer"}); not overwriting it`);
  }
  if (delta.kind === "appended") {
    // Whole file to a temp name, then rename: a reader never sees a half-written journal.
    const temp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
    await transport.writeFile(temp, Buffer.concat([remote, delta.suffix]));
    await transport.exec(`mv -f -- ${shellQuote(temp)} ${shellQuote(path)}`);
  }
  return outcomeOf(delta);
}

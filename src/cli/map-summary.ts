/**
 * Map steps in `status` and `watch`: one row per map instead of one per element, with counts by
 * state and the elements that did not succeed named (a few; `status --json` has them all).
 *
 * @module
 */
import type { StoredRun } from "../api/run-status.js";
import type { StepResult, StepStatus } from "../runner/run-types.js";
import { sanitizeForTerminal } from "./sanitize.js";

/** Elements named per map in text output; the rest are counted. */
const NAMED = 5;

/** A map step as shown: its displayed state, its elements' counts, the short ones. */
export interface MapRow {
  name: string;
  /** The map's own state once settled; while elements run, `running` (or `queued`). */
  status: StepStatus;
  total: number;
  counts: Partial<Record<StepStatus, number>>;
  /** Elements that failed, were skipped or cancelled: label and reason. */
  short: Array<{ label: string; status: StepStatus; reason?: string }>;
}

/** The map rows of a run, and the set of element step names (left out of per-step rows). */
export function mapRows(stored: Pick<StoredRun, "maps">, steps: Readonly<Record<string, StepResult>>): { rows: Map<string, MapRow>; elements: Set<string> } {
  const rows = new Map<string, MapRow>();
  const elements = new Set<string>();
  for (const [map, list] of stored.maps) {
    const counts: MapRow["counts"] = {};
    const short: MapRow["short"] = [];
    for (const { step, label } of list) {
      elements.add(step);
      const s = steps[step];
      const status = s?.status ?? "pending";
      counts[status] = (counts[status] ?? 0) + 1;
      if (status === "failed" || status === "skipped" || status === "cancelled") short.push({ label, status, ...(s?.reason ? { reason: s.reason } : {}) });
    }
    const own = steps[map]?.status ?? "pending";
    const active = (counts.running ?? 0) > 0 ? "running" : (counts.queued ?? 0) > 0 ? "queued" : undefined;
    rows.set(map, { name: map, status: own === "pending" && active ? active : own, total: list.length, counts, short });
  }
  return { rows, elements };
}

/** `64 elements: 60 succeeded, 1 running, 3 failed` */
export function mapCounts(row: MapRow): string {
  const order: StepStatus[] = ["succeeded", "cached", "running", "queued", "pending", "failed", "skipped", "cancelled"];
  const parts = order.filter((s) => row.counts[s]).map((s) => `${row.counts[s]} ${s}`);
  return `${row.total} elements: ${parts.join(", ")}`;
}

/** Lines naming the elements that did not succeed (at most a few per map). */
export function shortElementLines(row: MapRow, indent = "  "): string[] {
  const lines = row.short.slice(0, NAMED).map((e) => `${indent}${e.label}: ${e.status}${e.reason ? ` — ${sanitizeForTerminal(e.reason).replace(/\n/g, " ")}` : ""}`);
  if (row.short.length > NAMED) lines.push(`${indent}… and ${row.short.length - NAMED} more elements of ${row.name} (status --json lists every one)`);
  return lines;
}

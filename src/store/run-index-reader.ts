/**
 * The run table's fast path: every run's summary in the file store at `home`, read from the run
 * index without loading the record schemas (zod costs more to load than reading 5,000 summaries).
 * Only when the index lacks a run that has a record is the file store loaded, to rebuild it.
 *
 * @module
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { runsDirOf } from "./indexed-runs.js";
import { RunIndex } from "./run-index.js";
import type { RunSummary } from "./run-summary.js";

/** See the module comment (the order is the `runs/` directory's). */
export async function readRunSummaries(home: string): Promise<RunSummary[]> {
  const runsDir = runsDirOf(home);
  const [contents, ids] = await Promise.all([new RunIndex(home).read(), readdir(runsDir).catch(() => [] as string[])]);
  const unindexed = ids.filter((id) => !id.startsWith(".") && !contents.summaries.has(id));
  // A run directory without its record (a crash between mkdir and write) is no run: nothing to rebuild.
  const rebuild = (
    await Promise.all(
      unindexed.map((id) =>
        stat(join(runsDir, id, "run.json")).then(
          () => true,
          () => false,
        ),
      ),
    )
  ).some(Boolean);
  if (!rebuild) return ids.flatMap((id) => contents.summaries.get(id) ?? []);
  const { FileStore } = await import("./file-store.js");
  const store = new FileStore({ home });
  try {
    return await store.listRunSummaries();
  } finally {
    await store.close();
  }
}

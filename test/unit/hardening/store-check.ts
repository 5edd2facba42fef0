/**
 * A full consistency check of a file store directory: every record file parses against its
 * schema, no temp file is listed as a record, every run record parses, and every journal reads
 * (at most a torn final line, which readJournal drops) and replays.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { z } from "zod";
import { replayJournal } from "../../../src/runner/replay.js";
import { FileStore } from "../../../src/store/file-store.js";
import { ArtifactRecordSchema, CacheEntrySchema, ModelRecordSchema, RunRecordSchema, TaskRecordSchema } from "../../../src/store/records.js";

/** What {@link checkStore} found. */
export interface StoreReport {
  records: Record<string, number>;
  /** Leftover temp files of interrupted atomic writes (harmless; never read as records). */
  tempFiles: string[];
  runs: number;
  /** Runs whose directory exists but whose run.json was never written (killed between mkdir and write). */
  runsWithoutRecord: number;
  journalEntries: number;
  /** Journals whose final line was torn. */
  tornJournals: number;
  problems: string[];
}

const KINDS: Record<string, z.ZodType> = { tasks: TaskRecordSchema, models: ModelRecordSchema, artifacts: ArtifactRecordSchema, cache: CacheEntrySchema };
const TEMP = /^\..+\.tmp$/;

/** Checks the store at `home`; `problems` is empty when it is consistent. */
export async function checkStore(home: string): Promise<StoreReport> {
  const store = new FileStore({ home });
  const report: StoreReport = { records: {}, tempFiles: [], runs: 0, runsWithoutRecord: 0, journalEntries: 0, tornJournals: 0, problems: [] };
  try {
    for (const [kind, schema] of Object.entries(KINDS)) {
      const dir = join(home, kind);
      const names = existsSync(dir) ? await readdir(dir) : [];
      let records = 0;
      for (const name of names) {
        if (TEMP.test(name)) {
          report.tempFiles.push(join(kind, name));
          continue;
        }
        if (!name.endsWith(".json")) {
          report.problems.push(`${kind}/${name}: not a record file`);
          continue;
        }
        const parsed = schema.safeParse(JSON.parse(await readFile(join(dir, name), "utf8").catch(() => "null")));
        if (!parsed.success) report.problems.push(`${kind}/${name}: ${parsed.error.message}`);
        records++;
      }
      report.records[kind] = records;
    }
    // The store's own listings see exactly the record files (never a temp file).
    const listed = { tasks: (await store.listTasks()).length, models: (await store.listModels()).length, artifacts: (await store.listArtifacts()).length };
    for (const [kind, count] of Object.entries(listed)) {
      if (count !== report.records[kind]) report.problems.push(`list ${kind} gave ${count} records, ${report.records[kind]} files`);
    }

    const runsDir = join(home, "runs");
    for (const runId of existsSync(runsDir) ? await readdir(runsDir) : []) {
      const dir = join(runsDir, runId);
      for (const name of await readdir(dir)) if (TEMP.test(name)) report.tempFiles.push(join("runs", runId, name));
      if (!existsSync(join(dir, "run.json"))) {
        report.runsWithoutRecord++;
        if (existsSync(join(dir, "journal.jsonl"))) report.problems.push(`run ${runId}: a journal but no run.json`);
        continue;
      }
      report.runs++;
      const record = RunRecordSchema.safeParse(JSON.parse(await readFile(join(dir, "run.json"), "utf8")));
      if (!record.success) report.problems.push(`runs/${runId}/run.json: ${record.error.message}`);
      const journalFile = join(dir, "journal.jsonl");
      const text = existsSync(journalFile) ? await readFile(journalFile, "utf8") : "";
      try {
        const entries = await store.readJournal(runId);
        replayJournal(entries);
        report.journalEntries += entries.length;
        // Every complete line is an entry; only an unterminated final piece may have been dropped.
        const pieces = text.split("\n");
        const torn = pieces.pop() !== "";
        if (torn) report.tornJournals++;
        const complete = pieces.filter((l) => l !== "").length;
        if (entries.length !== complete) report.problems.push(`journal ${runId}: ${entries.length} entries from ${complete} complete lines`);
      } catch (error) {
        report.problems.push(`journal ${runId}: ${(error as Error).message}`);
      }
    }
    return report;
  } finally {
    await store.close();
  }
}

/**
 * Where a study lives in a file store, and its two files:
 *
 * ```
 * <home>/studies/<id>/study.json      the study as submitted (spec, pipeline, cluster), written once
 * <home>/studies/<id>/journal.jsonl   append-only, fsynced: trials asked, told; starts and ends
 * <home>/studies/<id>/lock.json       the study controller's lock (one controller per study)
 * ```
 *
 * The journal is written like a run's (`JournalWriter`: group commit, fsync before the promise
 * resolves), and read back the same way: a torn last line (a crash mid-append) is dropped.
 *
 * @module
 */
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError, StoreError } from "../errors.js";
import { PipelineSpecSchema } from "../pipeline/pipeline-spec.js";
import { atomicWrite } from "../store/atomic-write.js";
import { assertSafeSegment } from "../store/ids.js";
import { JournalWriter } from "../store/journal-writer.js";
import { type StudyEntry, StudyEntrySchema } from "./study-journal.js";
import { StudySpecSchema } from "./study-spec.js";

/** A study as submitted. */
export const StudyRecordSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  spec: StudySpecSchema,
  pipeline: PipelineSpecSchema,
  /** The cluster config: a file path (a name is resolved to its file at submit), `local`, or a config object. */
  cluster: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  runtime: z.enum(["real", "simulate"]).optional(),
});
/** A recorded study. */
export type StudyRecord = z.infer<typeof StudyRecordSchema>;

/** `<home>/studies/<id>`. */
export function studyDir(home: string, id: string): string {
  assertSafeSegment("study id", id);
  return join(home, "studies", id);
}

/** Writes `study.json` in a new study directory; fails when the id exists. */
export async function writeStudyRecord(home: string, record: StudyRecord): Promise<void> {
  const dir = studyDir(home, record.id);
  await mkdir(join(home, "studies"), { recursive: true });
  try {
    await mkdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new StoreError(`study "${record.id}" already exists in ${home}`, { path: dir, cause: error });
    throw error;
  }
  await atomicWrite(join(dir, "study.json"), JSON.stringify(record, null, 2), { createDir: false });
}

/** Reads `study.json`; an unknown id is a {@link ConfigError} listing the studies there are. */
export async function readStudyRecord(home: string, id: string): Promise<StudyRecord> {
  const file = join(studyDir(home, id), "study.json");
  const text = await readFile(file, "utf8").catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw new StoreError(`cannot read ${file}: ${error.message}`, { path: file, cause: error });
    const known = await listStudyIds(home);
    throw new ConfigError(`study "${id}" not found in ${home}${known.length > 0 ? ` (studies: ${known.slice(-10).join(", ")})` : " (it has no studies)"}`, { field: "study" });
  });
  try {
    return StudyRecordSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new StoreError(`study record ${file} is corrupt: ${(error as Error).message}`, { path: file, cause: error });
  }
}

/** Ids of the studies in `home`, oldest first (ids start with their creation time). */
export async function listStudyIds(home: string): Promise<string[]> {
  const names = await readdir(join(home, "studies")).catch(() => [] as string[]);
  return names.filter((n) => !n.startsWith(".")).sort();
}

/** The journal's entries in order; a torn last line is ignored, any other bad line is corruption. */
export async function readStudyJournal(home: string, id: string): Promise<StudyEntry[]> {
  const file = join(studyDir(home, id), "journal.jsonl");
  const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "";
    throw new StoreError(`cannot read study journal ${file}: ${error.message}`, { path: file, cause: error });
  });
  const lines = text.split("\n");
  const entries: StudyEntry[] = [];
  lines.forEach((line, index) => {
    if (line === "") return;
    try {
      entries.push(StudyEntrySchema.parse(JSON.parse(line)));
    } catch (error) {
      if (index === lines.length - 1 && !text.endsWith("\n")) return;
      throw new StoreError(`study journal ${file} line ${index + 1} is corrupt: ${(error as Error).message}`, { path: file, cause: error });
    }
  });
  return entries;
}

/** An open study journal: `append` resolves once the entry is on disk. */
export function openStudyJournal(home: string, id: string): { append: (entry: StudyEntry) => Promise<void>; close: () => Promise<void> } {
  const writer = new JournalWriter(join(studyDir(home, id), "journal.jsonl"));
  return { append: (entry) => writer.append(StudyEntrySchema.parse(entry)), close: () => writer.close() };
}

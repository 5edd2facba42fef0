/**
 * Cancelling a study no live controller holds: under the study's lock (so no controller starts
 * meanwhile), each interrupted trial's unfinished run is cancelled as `gpu-dag cancel` would
 * (its in-flight jobs stopped, the run journaled cancelled), then the study is journaled
 * `cancelled`. `study resume` can still continue it later.
 *
 * @module
 */
import { readRun } from "../api/run-status.js";
import { RunNotFoundError } from "../errors.js";
import { acquireRunLock } from "../store/run-lock.js";
import type { Store } from "../store/store.js";
import type { StudyView } from "../study/study.js";
import { openStudyJournal, studyDir } from "../study/study-files.js";
import { cancelOffline } from "./cancel-offline.js";

/** See the module comment. */
export async function cancelInterruptedStudy(store: Store, home: string, view: StudyView): Promise<void> {
  const lock = await acquireRunLock(studyDir(home, view.studyId), view.studyId);
  const journal = openStudyJournal(home, view.studyId);
  try {
    for (const trial of view.trials.filter((t) => t.status === "interrupted")) {
      const run = await readRun(store, trial.runId).catch((error: unknown) => {
        if (error instanceof RunNotFoundError) return undefined; // asked, its run never made
        throw error;
      });
      if (run?.replay.status === "running") await cancelOffline(store, trial.runId);
    }
    await journal.append({ type: "study-finished", at: Date.now(), status: "cancelled", reason: "cancelled by `gpu-dag study cancel` (no controller was running)" });
  } finally {
    await journal.close();
    await lock.release();
  }
}

/**
 * Entry point of the controller shipped to a cluster (bundled into one file by
 * `bundleController()`): drives a recorded run from a store on the cluster's shared filesystem,
 * submitting with sbatch on the node it runs on. SIGTERM / SIGINT cancel the run.
 *
 *   node controller.mjs <storeDir> <runId> [--resume]
 *
 * @module
 */
import { driveRun } from "../api/drive-run.js";
import { FileStore } from "../store/file-store.js";

const [home, runId, ...flags] = process.argv.slice(2);
if (!home || !runId) {
  process.stderr.write("usage: controller.mjs <storeDir> <runId> [--resume]\n");
  process.exit(2);
}
const abort = new AbortController();
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => abort.abort());
const store = new FileStore({ home });
try {
  const result = await driveRun(runId, {
    store,
    home,
    resume: flags.includes("--resume"),
    signal: abort.signal,
    onEvent: (event) => {
      if (event.type !== "run:complete") process.stdout.write(`${new Date(event.at).toISOString()} ${event.type} ${"step" in event ? event.step : ""}\n`);
    },
  });
  process.stdout.write(`run ${runId}: ${result.status}\n`);
  process.exitCode = result.status === "succeeded" ? 0 : 1;
} catch (error) {
  // E.g. a StoreError: the store on the shared filesystem went away mid-run (its jobs were cancelled).
  process.stderr.write(`run ${runId}: controller failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await store.close();
}
process.exit();

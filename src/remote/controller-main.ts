/**
 * Entry point of the controller shipped to a cluster (bundled into one file by
 * `bundleController()`): drives a recorded run from a store on the cluster's shared filesystem,
 * submitting with sbatch on the node it runs on. SIGTERM / SIGINT cancel the run.
 *
 *   node controller.mjs <storeDir> <runId> [--token T] [--resume] [--force STEP]…
 *
 * It runs only while it owns the run (`--token` matches the run's `owner.json`, see
 * `controller-owner.ts`): a controller job started again after a local controller took the run
 * over exits 3 without touching anything.
 *
 * @module
 */
import { driveRun } from "../api/drive-run.js";
import { FileStore } from "../store/file-store.js";
import { assertClusterOwner } from "./controller-owner.js";

const [home, runId, ...rest] = process.argv.slice(2);
if (!home || !runId) {
  process.stderr.write("usage: controller.mjs <storeDir> <runId> [--token T] [--resume] [--force STEP]…\n");
  process.exit(2);
}
let token: string | undefined;
let resume = false;
const force: string[] = [];
for (let i = 0; i < rest.length; i++) {
  const flag = rest[i];
  if (flag === "--resume") resume = true;
  else if (flag === "--token") token = rest[++i];
  else if (flag === "--force") force.push(rest[++i] ?? "");
  else {
    process.stderr.write(`controller.mjs: unknown argument ${JSON.stringify(flag)}\n`);
    process.exit(2);
  }
}
try {
  await assertClusterOwner(home, runId, token);
} catch (error) {
  process.stderr.write(`gpu-dag controller: ${(error as Error).message}\n`);
  process.exit(3);
}
const abort = new AbortController();
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => abort.abort());
const store = new FileStore({ home });
try {
  const result = await driveRun(runId, {
    store,
    home,
    resume,
    ...(force.length > 0 ? { force } : {}),
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

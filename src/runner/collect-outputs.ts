/**
 * A succeeded attempt's outputs: its manifest read from the attempt directory, its paths checked
 * against the directory the job wrote in (outside it, or missing, fails the step), and its models
 * and artifacts recorded in the store.
 *
 * @module
 */
import { join } from "node:path";
import { OUTPUTS_FILE } from "../backends/queue-backend.js";
import { checkManifestPaths } from "../manifest/manifest-paths.js";
import { readOutputsManifest } from "../manifest/outputs-manifest.js";
import type { StepOutputs } from "../store/records.js";
import type { Store } from "../store/store.js";
import { type OutputsOrigin, recordOutputs } from "./record-outputs.js";

/**
 * Reads, checks and records the outputs of the attempt whose local directory is `attemptDir`
 * (`origin.jobDir`: the same directory as the job saw it). Throws naming the manifest on any problem.
 */
export async function collectOutputs(store: Store, attemptDir: string, origin: OutputsOrigin): Promise<StepOutputs> {
  const manifestFile = join(attemptDir, OUTPUTS_FILE);
  const manifest = await readOutputsManifest(manifestFile);
  await checkManifestPaths(manifest, manifestFile, origin.jobDir);
  return recordOutputs(store, manifest, origin);
}

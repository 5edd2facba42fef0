/**
 * Who owns a run in a cluster's store: `owner.json` in the cluster's run directory holds a token,
 * and a cluster-side controller runs only when started with that token. Whoever starts a
 * controller job writes a fresh token first; a local controller taking the run over writes one
 * no controller job has. So a controller job started again later (a requeue, its batch script
 * resubmitted by hand) while the run is driven elsewhere refuses to run instead of becoming a
 * second controller.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join, posix } from "node:path";
import type { Transport } from "../backends/slurm/transport.js";

/** Name of the ownership file in the cluster's run directory. */
export const OWNER_FILE = "owner.json";

/** Content of {@link OWNER_FILE}. */
export interface RunOwner {
  token: string;
  /** Who holds it, for messages: `controller job (generation 2)`, `local controller on host:pid`. */
  owner: string;
  at: string;
}

/** Writes a fresh owner token into the cluster's run directory; returns it. */
export async function claimClusterRun(transport: Transport, storeDir: string, runId: string, owner: string): Promise<string> {
  const token = randomBytes(8).toString("hex");
  const content: RunOwner = { token, owner, at: new Date().toISOString() };
  await transport.writeFile(posix.join(storeDir, "runs", runId, OWNER_FILE), JSON.stringify(content));
  return token;
}

/** The owner a local controller records when it takes a run over from a dead controller job. */
export function localOwner(storeLocation: string): string {
  return `a local controller on ${hostname()} (pid ${process.pid}, store ${storeLocation})`;
}

/**
 * Run on the cluster by a controller job before it drives anything: throws unless the run's
 * owner token is `token`. A run without an owner file (never claimed) may be driven by anyone
 * that holds the store's lock.
 */
export async function assertClusterOwner(storeDir: string, runId: string, token: string | undefined): Promise<void> {
  const text = await readFile(join(storeDir, "runs", runId, OWNER_FILE), "utf8").catch(() => undefined);
  if (text === undefined) return;
  const owner = JSON.parse(text) as RunOwner;
  if (owner.token === token) return;
  throw new Error(`run ${runId} was taken over by ${owner.owner} at ${owner.at}; this controller job does not own it and will not run`);
}

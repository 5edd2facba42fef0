/**
 * The one backend a study's trials share: built from the study's cluster config as a run's would
 * be (`buildEnvironment`), so a local study holds machine-wide GPU leases per job like any run,
 * and a Slurm study keeps one connection for all its trials.
 *
 * @module
 */
import { buildEnvironment } from "../api/build-environment.js";
import type { QueueBackend } from "../backends/queue-backend.js";
import { ClusterConfigSchema } from "../config/cluster-config.js";
import { loadClusterConfig } from "../config/load-cluster-config.js";
import { validateWith } from "../config/yaml-schema.js";
import type { StudyRecord } from "./study-files.js";

/** Builds the backend of the study's cluster config; the caller closes it. */
export async function studyBackend(record: StudyRecord, home: string): Promise<QueueBackend> {
  const { name, config } =
    typeof record.cluster === "object"
      ? { name: "custom", config: validateWith(ClusterConfigSchema, record.cluster, `study ${record.id} cluster`) }
      : await loadClusterConfig(record.cluster ?? "local");
  return (await buildEnvironment(name, config, { home })).backend;
}

import { runQueueBackendConformance } from "../conformance/queue-backend-conformance.js";
import { slurmHarness } from "./slurm-test-env.js";

runQueueBackendConformance("slurm over ssh", () => slurmHarness("ssh"));
runQueueBackendConformance("slurm on a login node", () => slurmHarness("login-node"));

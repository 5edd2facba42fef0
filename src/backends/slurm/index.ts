/**
 * The Slurm backend: batch scripts (single jobs, and job arrays for map elements), Slurm output
 * parsers, SSH and login-node transports.
 *
 * @module
 */

export { type PlannedArray, planSubmission, type SubmissionPlan } from "./array-plan.js";
export { ARRAY_ELEMENTS_FILE, type ArrayElement, type ArrayScriptInput, arrayDirectives, renderArrayScript } from "./array-script.js";
export {
  type BatchScriptInput,
  type ContainerSpec,
  commandLine,
  EXIT_CODE_FILE,
  renderBatchScript,
  renderElementScript,
  renderSecretEnv,
  type SbatchOptions,
  SCRIPT_FILE,
  SECRET_ENV_FILE,
  sbatchDirectives,
  slurmTime,
} from "./batch-script.js";
export { checkHostKey, fingerprint, type HostKeyVerdict, knownHostsName } from "./known-hosts.js";
export { LocalTransport } from "./local-transport.js";
export { type RenderedArray, type RenderedJobScript, type RenderedSubmission, renderSlurmSubmission } from "./render-arrays.js";
export { argvFor, containerFor, remoteAttemptDir, resolveBatchJob, type SlurmJobConfig, sbatchOptionsFor, stepDirName } from "./resolve-job.js";
export { type PollIntervals, SlurmBackend, type SlurmBackendOptions, type SlurmBackendStats } from "./slurm-backend.js";
export { FIELD_SEP, parseArrayLimits, parseSacct, parseSqueue, sacctCommand, splitFields, squeueCommand } from "./slurm-output.js";
export { baseState, parseExitSignal, type SlurmJobInfo, splitWaitStatus, toJobState } from "./slurm-state.js";
export { SshTransport, type SshTransportOptions } from "./ssh-transport.js";
export { ConnectionDroppedError, type ExecOptions, type ExecResult, type RemoteFile, type Transport } from "./transport.js";

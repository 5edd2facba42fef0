/**
 * The Slurm backend: batch scripts, Slurm output parsers, SSH and login-node transports.
 *
 * @module
 */
export { SlurmBackend, type SlurmBackendOptions, type SlurmBackendStats, type PollIntervals } from "./slurm-backend.js";
export {
  renderBatchScript,
  renderSecretEnv,
  sbatchDirectives,
  commandLine,
  slurmTime,
  EXIT_CODE_FILE,
  SECRET_ENV_FILE,
  SCRIPT_FILE,
  type BatchScriptInput,
  type SbatchOptions,
  type ContainerSpec,
} from "./batch-script.js";
export { resolveBatchJob, remoteAttemptDir, sbatchOptionsFor, containerFor, argvFor, type SlurmJobConfig } from "./resolve-job.js";
export { parseSqueue, parseSacct, squeueCommand, sacctCommand, splitFields, FIELD_SEP } from "./slurm-output.js";
export { toJobState, baseState, splitWaitStatus, parseExitSignal, type SlurmJobInfo } from "./slurm-state.js";
export { SshTransport, type SshTransportOptions } from "./ssh-transport.js";
export { LocalTransport } from "./local-transport.js";
export { checkHostKey, fingerprint, knownHostsName, type HostKeyVerdict } from "./known-hosts.js";
export { ConnectionDroppedError, type Transport, type ExecResult, type ExecOptions, type RemoteFile } from "./transport.js";

/**
 * The Slurm backend: batch scripts (single jobs, and job arrays for map elements), Slurm output
 * parsers, SSH (routes through jump hosts, keys and agents) and login-node transports, path checks
 * before a run, and shipping the user's code.
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
export { codeArchive, snapshotCode, withCodeSnapshot } from "./code-snapshot.js";
export { checkHostKey, checkHostKeyNamed, fingerprint, type HostKeyVerdict, knownHostsName } from "./known-hosts.js";
export { LocalTransport } from "./local-transport.js";
export { checkClusterPaths, type PathCheck, pathCheckProgram, pathChecks } from "./path-check.js";
export { type RenderedArray, type RenderedJobScript, type RenderedSubmission, renderSlurmSubmission } from "./render-arrays.js";
export { argvFor, containerFor, remoteAttemptDir, resolveBatchJob, type SlurmJobConfig, sbatchOptionsFor, stepDirName } from "./resolve-job.js";
export { runCodeDir, ShippedCode } from "./ship-code.js";
export { type PollIntervals, SlurmBackend, type SlurmBackendOptions, type SlurmBackendStats } from "./slurm-backend.js";
export { FIELD_SEP, parseArrayLimits, parseSacct, parseSqueue, sacctCommand, splitFields, squeueCommand } from "./slurm-output.js";
export { baseState, parseExitSignal, type SlurmJobInfo, splitWaitStatus, toJobState } from "./slurm-state.js";
export { type PassphrasePrompt, ttyPassphrasePrompt } from "./ssh-passphrase.js";
export { parseJump, resolveSshRoute, type SshHop, type SshRoute, type SshRouteRequest } from "./ssh-route.js";
export { SshTransport, type SshTransportOptions } from "./ssh-transport.js";
export { ConnectionDroppedError, type ExecOptions, type ExecResult, type RemoteFile, type Transport } from "./transport.js";

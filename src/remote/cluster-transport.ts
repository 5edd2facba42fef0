/**
 * A transport to a Slurm cluster from its config: SSH when `ssh` is set, else this machine.
 *
 * @module
 */
import type { SlurmClusterConfig } from "../config/cluster-config.js";
import { LocalTransport } from "../backends/slurm/local-transport.js";
import type { Transport } from "../backends/slurm/transport.js";

/** Opens (lazily) a transport for `config`. The caller closes it. */
export async function clusterTransport(config: SlurmClusterConfig): Promise<Transport> {
  if (!config.ssh) return new LocalTransport();
  const { SshTransport } = await import("../backends/slurm/ssh-transport.js");
  const ssh = config.ssh;
  return new SshTransport({
    host: ssh.host,
    port: ssh.port,
    user: ssh.user,
    ...(ssh.identityFile !== undefined ? { identityFile: ssh.identityFile } : {}),
    ...(ssh.knownHosts !== undefined ? { knownHosts: ssh.knownHosts } : {}),
    hostKeyPolicy: ssh.hostKeyPolicy,
    readyTimeout: ssh.readyTimeout,
  });
}

/**
 * The transport a Slurm config asks for: SSH when it has `ssh`, else this machine (a login node).
 *
 * @module
 */
import type { SlurmClusterConfig } from "../../config/cluster-config.js";
import { LocalTransport } from "./local-transport.js";
import { SshTransport } from "./ssh-transport.js";
import type { Transport } from "./transport.js";

/** A new (lazily connecting) transport for `config`. The caller closes it. */
export function transportFor(config: Partial<Pick<SlurmClusterConfig, "ssh">>): Transport {
  const ssh = config.ssh;
  if (!ssh) return new LocalTransport();
  // Unset fields stay unset: the ssh config (~/.ssh/config), then OpenSSH's defaults, fill them.
  return new SshTransport({ ...ssh });
}

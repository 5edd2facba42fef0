/**
 * One SSH connection, many commands at once: sshd allows 10 sessions per connection by default
 * (MaxSessions), so the transport queues execs beyond its channel bound instead of failing —
 * what a resumed controller adopting dozens of jobs at once needs.
 */
import { describe, expect, it } from "vitest";
import type { SshTransport } from "../../src/backends/slurm/ssh-transport.js";
import { transportFor } from "../../src/backends/slurm/transport-for.js";
import { pipelineClusterConfig, slurmTestEnv } from "./slurm-test-env.js";

describe("ssh transport channel bound (real sshd)", () => {
  it("runs 40 concurrent commands over one connection without exceeding sshd's MaxSessions", async () => {
    const config = pipelineClusterConfig(slurmTestEnv());
    if (config.executor !== "slurm") throw new Error("expected a slurm config");
    const transport = transportFor(config) as SshTransport;
    try {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => transport.exec(`sleep 0.2; echo ${i}`)));
      expect(results.map((r) => r.code)).toEqual(Array(40).fill(0));
      expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
      expect(transport.connects).toBe(1);
    } finally {
      await transport.close();
    }
  });
});

/**
 * Freeing devices wakes every pool of the process that waits for GPUs, even when one of them
 * throws: one pool's failure must not keep the others waiting for devices that are free.
 */
import { describe, expect, it } from "vitest";
import { GpuLeases } from "../../../../src/backends/local/gpu-leases.js";
import { tempDir } from "../../helpers.js";

describe("GpuLeases.free", () => {
  it("calls every onFree listener even when an earlier one throws, and does not throw itself", async () => {
    const leases = GpuLeases.for(await tempDir());
    const woken: string[] = [];
    const off1 = leases.onFree(() => {
      woken.push("first");
      throw new Error("a pool's own bug");
    });
    const off2 = leases.onFree(() => woken.push("second"));
    try {
      leases.hold(["0"], undefined);
      expect(() => leases.free(["0"])).not.toThrow();
      expect(woken).toEqual(["first", "second"]);
      expect(leases.heldHere("0")).toBe(false);
    } finally {
      off1();
      off2();
    }
  });
});

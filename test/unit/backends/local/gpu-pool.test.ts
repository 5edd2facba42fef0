/**
 * GpuPool on its own: priority, backfill, exclusive devices.
 */
import { describe, expect, it } from "vitest";
import { GpuPool } from "../../../../src/backends/local/gpu-pool.js";

describe("GpuPool", () => {
  it("orders the jobs of one batch by priority: the more urgent one gets the free GPU, whatever its place in the batch", async () => {
    const pool = new GpuPool(["0"]);
    const order: string[] = [];
    const [first, urgent] = pool.batch(() => [pool.acquire(1, 1), pool.acquire(1, 9)]);
    void first!.promise.then((ids) => {
      order.push("first");
      pool.release(ids);
    });
    const ids = await urgent!.promise;
    order.push("urgent");
    pool.release(ids);
    await first!.promise;
    expect(order).toEqual(["urgent", "first"]);
  });

  it("grants by priority, backfills smaller jobs, never hands out a device twice", async () => {
    const pool = new GpuPool(["0", "1", "2"]);
    const held = new Set<string>();
    const take = (ids: string[]) => {
      for (const id of ids) {
        expect(held.has(id)).toBe(false);
        held.add(id);
      }
      return ids;
    };
    const give = (ids: string[]) => {
      for (const id of ids) held.delete(id);
      pool.release(ids);
    };
    const a = take(await pool.acquire(2).promise); // 0,1
    expect(a).toEqual(["0", "1"]);
    const order: string[] = [];
    const big = pool.acquire(3, 5).promise.then((ids) => (order.push("big"), take(ids)));
    const small = pool.acquire(1, 0).promise.then((ids) => (order.push("small"), take(ids)));
    await small; // backfills device 2 while "big" waits
    expect(order).toEqual(["small"]);
    give(a);
    expect(order).toEqual(["small"]); // big still needs the third device
    give(await small);
    expect(await big).toEqual(["0", "1", "2"]);
    expect(() => pool.acquire(4)).toThrow("job asks for 4 GPU(s) but the pool has 3");
  });
});

describe("GpuPool.claim (jobs adopted after a controller restart)", () => {
  it("keeps an adopted job's devices out of the pool until released", async () => {
    const pool = new GpuPool(["0", "1"]);
    expect(pool.claim(["1"])).toEqual(["1"]);
    expect(await pool.acquire(1).promise).toEqual(["0"]);
    let granted: string[] | undefined;
    void pool.acquire(1).promise.then((ids) => (granted = ids));
    await new Promise((r) => setTimeout(r, 10));
    expect(granted).toBeUndefined(); // device 1 is still the adopted job's
    pool.release(["1"]);
    await new Promise((r) => setTimeout(r, 0));
    expect(granted).toEqual(["1"]);
  });
});

/**
 * The lease from one LocalBackend's side: a GPU whose lease another process holds (before the
 * pool looks, or taken between the pool's look and the wrapper's lock) is waited for, with the
 * reason said; the job runs once, only after the holder is gone, and is never reported running
 * before it holds its GPU. A job asking for more GPUs than the pool has fails once, for good.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GpuLeases, resolveLeaseDir } from "../../../../src/backends/local/gpu-leases.js";
import { LocalBackend } from "../../../../src/backends/local/local-backend.js";
import { isTerminal, type JobSpec, type JobState } from "../../../../src/backends/queue-backend.js";
import { FileStore } from "../../../../src/store/file-store.js";
import { localCluster, tempDir, waitFor } from "../../helpers.js";
import { finishedAttempts } from "../../runner/durable/durable-helpers.js";
import { gpuPipeline } from "./lease-helpers.js";

function spec(root: string, step: string, gpus: number): JobSpec {
  const attemptDir = join(root, step);
  mkdirSync(attemptDir, { recursive: true });
  const argv = ["sh", "-c", 'echo "$CUDA_VISIBLE_DEVICES $(date +%s%N)" >> "$GPU_DAG_OUTPUT_DIR/ran"'];
  return { jobName: `gd-busy-${step}-a1`, runId: "busy", step, attempt: 1, queue: "q", resources: { gpus, nodes: 1 }, argv, env: {}, secretEnv: {}, attemptDir, priority: 0 };
}

function history(backend: LocalBackend): Array<{ at: number; state: JobState }> {
  const seen: Array<{ at: number; state: JobState }> = [];
  backend.onUpdate((_, state) => seen.push({ at: Date.now(), state }));
  return seen;
}

/** Holds `file`'s flock in a background `sleep` for `secs` (the shell that took it exits at once). */
function holdLease(file: string, secs: number): void {
  const r = spawnSync("sh", ["-c", 'exec 9<"$1"; flock -n 9 || exit 3; sleep "$2" & ', "hold", file, String(secs)], { stdio: "ignore" });
  expect(r.status, "the test's holder took the lease").toBe(0);
}

describe("GPU lease held by someone else", () => {
  it("taken between the pool's look and the wrapper's lock: the wrapper runs nothing, the job waits with a reason and runs once after", async () => {
    const root = await tempDir();
    const backend = new LocalBackend({ gpus: 1 });
    const seen = history(backend);
    const lease = GpuLeases.for(resolveLeaseDir()).lockPath("0");
    // submit() grants GPU 0 synchronously; the wrapper starts in a later microtask. Take the
    // lease in between, from another process that keeps it for 1.5 s.
    const submitted = backend.submit([spec(root, "raced", 1)]);
    holdLease(lease, 1.5);
    const heldUntil = Date.now() + 1500;
    const [job] = await submitted;
    await waitFor(() => seen.some((s) => isTerminal(s.state)), "the job to end", 15_000);
    expect(seen.at(-1)!.state.status).toBe("succeeded");
    const ran = readFileSync(join(root, "raced", "ran"), "utf8")
      .trim()
      .split("\n");
    expect(ran, "ran once").toHaveLength(1);
    expect(Number(ran[0]!.split(" ")[1]) / 1e6).toBeGreaterThan(heldUntil - 200);
    const waits = seen.filter((s) => s.state.status === "queued").map((s) => (s.state as { reason?: string }).reason);
    expect(waits).toContain("waiting for GPU: GPU 0 held by another process (no holder recorded)");
    const running = seen.filter((s) => s.state.status === "running");
    expect(running, "reported running once, when it held the GPU").toHaveLength(1);
    expect(running[0]!.at).toBeGreaterThan(heldUntil - 200);
    expect(job!.backendJobId).toBe("gd-busy-raced-a1");
    await backend.close();
  });

  it("held before the pool looks, by a holder that recorded itself: the reason names its run, step and pid", async () => {
    const root = await tempDir();
    const leases = GpuLeases.for(resolveLeaseDir());
    leases.prepare(["0", "1"]);
    // Another user's job on GPU 1: its lock, and its holder record.
    const holder = spawn("sh", ["-c", 'exec 9<"$1"; flock -n 9 || exit 3; sleep 1.5', "hold", leases.lockPath("1")], { stdio: "ignore" });
    writeFileSync(leases.holderPath("1"), JSON.stringify({ pid: holder.pid, runId: "their-run", step: "their-step", attempt: 1, user: "someone" }) + "\n");
    await waitFor(() => leases.lockedNow(["1"]).has("1"), "the holder's lock to show in /proc/locks", 5000);
    const backend = new LocalBackend({ gpus: ["0", "1"] });
    const seen = history(backend);
    await backend.submit([spec(root, "pair", 2)]);
    await waitFor(() => seen.some((s) => isTerminal(s.state)), "the job to end", 15_000);
    expect(seen.at(-1)!.state.status).toBe("succeeded");
    const reasons = seen.flatMap((s) => (s.state.status === "queued" && s.state.reason ? [s.state.reason] : []));
    expect(reasons[0]).toBe(`waiting for GPU: GPU 1 held by run their-run step their-step (pid ${holder.pid})`);
    expect(readFileSync(join(root, "pair", "ran"), "utf8").split(" ")[0]).toBe("0,1");
    // Its own holder records name it now.
    expect(JSON.parse(readFileSync(leases.holderPath("0"), "utf8"))).toMatchObject({ runId: "busy", step: "pair", attempt: 1 });
    await backend.close();
  });

  it("a GPU job whose own command exits with the lease-busy code fails with it (it is not queued again)", async () => {
    const root = await tempDir();
    const backend = new LocalBackend({ gpus: 1 });
    const seen = history(backend);
    const job = spec(root, "own87", 1);
    await backend.submit([{ ...job, argv: ["sh", "-c", 'echo x >> "$GPU_DAG_OUTPUT_DIR/ran"; exit 87'] }]);
    await waitFor(() => seen.some((s) => isTerminal(s.state)), "the job to end", 10_000);
    expect(seen.at(-1)!.state).toMatchObject({ status: "failed", exitCode: 87 });
    expect(readFileSync(join(root, "own87", "ran"), "utf8")).toBe("x\n");
    await backend.close();
  });

  it("a step asking for more GPUs than the backend's pool fails at once and is not retried", async () => {
    const home = await tempDir("gpu-dag-lease-home-");
    const store = new FileStore({ home });
    const markers = await tempDir();
    const pipeline = await gpuPipeline(store, markers, "too-big", { one: 1, two: 0, secs: 0 });
    const backend = new LocalBackend({ gpus: 0 });
    const result = await pipeline.executeLocally({ store, home, cluster: localCluster({ gpus: 2 }), backend, retryBackoffMs: 10 });
    expect(result.status).toBe("failed");
    expect(result.steps["g1"]).toMatchObject({ status: "failed", attempts: 1 });
    expect(result.steps["g1"]!.reason).toContain("asks for 1 GPU(s) but this machine's pool has 0");
    expect((await finishedAttempts(store, result.runId, "g1")).map((e) => e.status)).toEqual(["failed"]);
    await backend.close();
    await store.close();
  });
});

/**
 * Vitest setup: every test file gets its own GPU lease directory, so tests running in parallel
 * (here, or in another checkout on this machine) never wait for each other's fake GPUs, and no
 * test contends with real jobs holding the machine-wide default (`/tmp/gpu-dag-leases`). Child
 * processes (controllers, detached controllers) inherit it. A test that makes several controllers
 * share one lease directory sets `GPU_DAG_LEASE_DIR` for them itself.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "gpu-dag-test-leases-"));
process.env["GPU_DAG_LEASE_DIR"] = dir;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

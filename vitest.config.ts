import { defineConfig } from "vitest/config";

// Four tiers. `unit` needs nothing but Node; `slurm` needs the real Slurm + sshd started by
// scripts/test-env/slurm-up.sh; `python` needs the venv made by `gpu-dag setup-python`;
// `browser` needs Debian's chromium (scripts/test-all.sh installs it).
// In CI (CI=true) a tier whose service is missing fails; it never skips.
// Each test file gets a private GPU lease directory (see the setup file).
const LEASES = "test/setup/private-lease-dir.ts";

export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 30_000, setupFiles: [LEASES] } },
      {
        test: {
          name: "slurm",
          include: ["test/slurm/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          setupFiles: [LEASES],
        },
      },
      {
        // The dashboard in Debian's chromium (test/browser/browser-helpers.ts).
        test: { name: "browser", include: ["test/browser/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 60_000, fileParallelism: false, setupFiles: [LEASES] },
      },
      {
        test: {
          name: "python",
          include: ["test/python/**/*.test.ts"],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          fileParallelism: false,
          setupFiles: [LEASES],
        },
      },
    ],
  },
});

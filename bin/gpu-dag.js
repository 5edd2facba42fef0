#!/usr/bin/env node
// The `gpu-dag` command. Runs the built CLI (dist/cli/main.js) when there is one; otherwise the
// TypeScript sources through tsx's loader, registered in this process (no second process, so
// the pid a run's lock records is this one). GPU_DAG_CLI_SOURCE=1 forces the sources.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const built = new URL("../dist/cli/main.js", import.meta.url);
if (process.env.GPU_DAG_CLI_SOURCE !== "1" && existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(new URL("../src/cli/main.ts", import.meta.url).href);
}

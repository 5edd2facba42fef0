/**
 * The browser tier's setup: Debian's `chromium` (never a downloaded browser) driven by
 * playwright-core, and `gpu-dag ui` started as the user starts it (the real command, its URL read
 * from the first line of stdout). With CI=true a missing browser fails the tier; else it skips.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { gdBackground, ROOT } from "../unit/cli/cli-helpers.js";

/** The browser binary (GPU_DAG_CHROMIUM overrides). */
export const CHROMIUM = process.env["GPU_DAG_CHROMIUM"] ?? "/usr/bin/chromium";
/** Whether the tier can run here; in CI a missing browser is an error, not a skip. */
export const HAVE_BROWSER = existsSync(CHROMIUM);
// A missing browser fails the tier, in CI and locally alike: never a skip.
if (!HAVE_BROWSER) throw new Error(`the browser tier needs ${CHROMIUM} (apt-get install chromium; scripts/test-all.sh installs it as root)`);

/** Where the tests save screenshots (the README shows two of them, copied to docs/images/). */
export const SHOTS = join(ROOT, "test-results", "ui");

/** Starts headless chromium. */
export async function launch(): Promise<Browser> {
  await mkdir(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}

/** Starts `gpu-dag --home <home> ui`; resolves with its URL and the process. */
export function startUiCommand(home: string): Promise<{ url: string; child: ChildProcess }> {
  const child = gdBackground(home, ["ui"]);
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`gpu-dag ui printed no URL in 30 s: ${err}`)), 30_000);
    child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
      const line = out.split("\n");
      if (line.length > 1) {
        clearTimeout(timer);
        resolve({ url: line[0]!, child });
      }
    });
    child.on("exit", (code) => reject(new Error(`gpu-dag ui exited ${code}: ${err}`)));
  });
}

/**
 * The dashboard's front end: one script, `dist/ui/app.js`, bundled by `npm run build` from
 * `src/ui/client/` (Preact, htm, dagre — nothing fetched at run time). A development checkout
 * without `dist/` bundles it on the first request with esbuild (a development dependency).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { packageRoot } from "../package-root.js";

let cached: Promise<string> | undefined;

/** The bundled front-end script. */
export function appScript(): Promise<string> {
  cached ??= (async () => {
    const built = join(packageRoot(), "dist", "ui", "app.js");
    if (existsSync(built)) return readFile(built, "utf8");
    return buildAppScript();
  })();
  return cached;
}

/** Bundles `src/ui/client/main.ts` (to `outfile`, or returned as text). */
export async function buildAppScript(outfile?: string): Promise<string> {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [join(packageRoot(), "src", "ui", "client", "main.ts")],
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "es2020",
    minify: true,
    legalComments: "none",
    write: outfile !== undefined,
    ...(outfile !== undefined ? { outfile } : {}),
    logLevel: "error",
  });
  return outfile !== undefined ? readFile(outfile, "utf8") : (result.outputFiles?.[0]?.text ?? "");
}

/** HTML escaping for the one value put in the page shell. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page shell: the token for the script, the script, nothing else. */
export function pageShell(token: string): string {
  const t = escapeHtml(token);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>gpu-dag</title><link rel="stylesheet" href="/app.css?token=${t}"></head><body><div id="app"></div><script src="/app.js?token=${t}"></script></body></html>`;
}

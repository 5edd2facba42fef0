/**
 * The controller as one file, for clusters: `dist/remote/controller.mjs` when the package is
 * built, else bundled on the fly from the sources with esbuild (development checkouts).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../package-root.js";

/** Path of a single-file controller and its content hash. */
export async function bundleController(): Promise<{ file: string; hash: string }> {
  const root = packageRoot();
  const built = join(root, "dist", "remote", "controller.mjs");
  let file = built;
  if (!existsSync(built)) {
    const outDir = join(tmpdir(), `gpu-dag-controller-${process.getuid?.() ?? "u"}`);
    await mkdir(outDir, { recursive: true });
    file = join(outDir, `controller-${process.pid}.mjs`); // per process: concurrent builds never share a file
    await buildControllerBundle(file);
  }
  const hash = createHash("sha256").update(readFileSync(file)).digest("hex").slice(0, 16);
  return { file, hash };
}

/**
 * Bundles `src/remote/controller-main.ts` and its dependencies into one ESM file. Needs esbuild,
 * a development dependency: `npm run build` runs it, so installed packages never do.
 */
export async function buildControllerBundle(outfile: string): Promise<void> {
  const { build } = await import("esbuild");
  await build({
    entryPoints: [join(packageRoot(), "src", "remote", "controller-main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile,
    // ssh2's optional native speed-ups; it falls back to pure JS without them.
    external: ["cpu-features", "*.node"],
    // CommonJS dependencies (ssh2) expect require, __filename and __dirname.
    banner: {
      js: [
        "import { createRequire as __gdCreateRequire } from 'node:module';",
        "import { fileURLToPath as __gdFileURLToPath } from 'node:url';",
        "import { dirname as __gdDirname } from 'node:path';",
        "const require = __gdCreateRequire(import.meta.url);",
        "const __filename = __gdFileURLToPath(import.meta.url);",
        "const __dirname = __gdDirname(__filename);",
      ].join(" "),
    },
    logLevel: "error",
  });
}

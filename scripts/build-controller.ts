/** `npm run build` step: the one-file controller shipped to clusters by executeRemotely(). */
import { join } from "node:path";
import { packageRoot } from "../src/package-root.js";
import { buildControllerBundle } from "../src/remote/bundle-controller.js";

await buildControllerBundle(join(packageRoot(), "dist", "remote", "controller.mjs"));

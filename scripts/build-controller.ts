/** `npm run build` step: the one-file controller shipped to clusters by executeRemotely(). */
import { join } from "node:path";
import { buildControllerBundle } from "../src/remote/bundle-controller.js";
import { packageRoot } from "../src/package-root.js";

await buildControllerBundle(join(packageRoot(), "dist", "remote", "controller.mjs"));

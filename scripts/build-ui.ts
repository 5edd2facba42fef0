/** `npm run build` step: the dashboard's front end, bundled into dist/ui/app.js (see src/ui/assets.ts). */
import { join } from "node:path";
import { packageRoot } from "../src/package-root.js";
import { buildAppScript } from "../src/ui/assets.js";

await buildAppScript(join(packageRoot(), "dist", "ui", "app.js"));

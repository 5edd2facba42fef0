import { readFileSync } from "node:fs";
import { PipelineDefinition } from "./src/pipeline/pipeline-definition.js";
import { loadClusterConfig } from "./src/config/load-cluster-config.js";
import { LMEvalTask } from "./src/tasks/lm-eval-task.js";
const C = "test/fixtures/bad-inputs/";
for (const f of process.argv.slice(2)) {
  try {
    if (f.startsWith("pipelines/")) PipelineDefinition.fromYaml(readFileSync(C + f, "utf8"), f);
    else if (f.startsWith("clusters/")) await loadClusterConfig(C + f);
    else if (f.startsWith("tasks/")) new LMEvalTask((await import("yaml")).parse(readFileSync(C + f, "utf8")).options);
    console.log(f, "OK");
  } catch (e) { console.log(f, "→", (e as Error).message); }
}

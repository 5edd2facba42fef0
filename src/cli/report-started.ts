/**
 * What `run --remote` and `resume --remote` print once the run's controller has started away
 * from the CLI: the run id on stdout, where the controller went on stderr (or one JSON document).
 *
 * @module
 */
import type { StartedController } from "../api/start-controller.js";
import { note, out, printJson } from "./context.js";

/** See the module comment. `verb`: `started` or `resumed`. */
export function reportStarted(runId: string, started: StartedController, verb: "started" | "resumed", json: boolean): void {
  if (json) {
    printJson(started.kind === "cluster" ? { runId, controllerJobId: started.jobId, cluster: started.cluster } : { runId, controllerPid: started.pid, log: started.log });
    return;
  }
  out(`${runId}\n`);
  if (started.kind === "cluster") note(`run ${runId} ${verb} by controller job ${started.jobId} on cluster ${started.cluster} (services queue)`);
  else note(`run ${runId} ${verb} by a detached controller (pid ${started.pid}, log ${started.log})`);
  note(`follow it: gpu-dag watch ${runId}   wait for it: gpu-dag wait ${runId}`);
}

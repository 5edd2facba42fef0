/**
 * The dashboard's step page shows what Slurm was given: on the real Slurm, a single job's
 * `submitted.sbatch` and, for a map element submitted in an array, the array's script and the
 * element's own — kept in the local attempt directory at submission, with no secret in them.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../src/api/pipeline.js";
import { range } from "../../src/pipeline/map-spec.js";
import { Task } from "../../src/tasks/custom-task.js";
import { startUi } from "../../src/ui/server.js";
import { tempStore } from "../unit/helpers.js";
import { cancelRun, pipelineClusterConfig, slurmTestEnv } from "./slurm-test-env.js";

const env = slurmTestEnv();

describe("Slurm scripts on the dashboard's step page", () => {
  it("a single job's sbatch script; a map element's array script and its own; no secret value", { timeout: 180_000 }, async () => {
    const secret = `s3cr3t-${randomBytes(6).toString("hex")}`;
    process.env["GPU_DAG_TEST_UI_SECRET"] = secret;
    const store = await tempStore();
    const task = new Task({ projectName: "ui", taskName: "echo", command: ["sh", "-c", 'echo "n={n} ${#GPU_DAG_TEST_UI_SECRET}"'], parameters: { n: 0 }, secretEnv: ["GPU_DAG_TEST_UI_SECRET"] });
    await task.createTask({ store });
    const runId = `sui-${randomBytes(3).toString("hex")}`;
    const pipeline = new Pipeline({ projectName: "ui", pipelineName: "scripts" })
      .addStep({ name: "one", baseTaskId: task.id!, executionQueue: "services", parameterOverride: { n: 7 } })
      .addStep({ name: "gen", baseTaskId: task.id!, executionQueue: "services", map: { axes: { i: range(2) } }, parameterOverride: { n: "${item.i}" } });
    try {
      const result = await pipeline.executeLocally({ store, home: store.home, cluster: pipelineClusterConfig(env), runId });
      expect(result.status).toBe("succeeded");
    } finally {
      cancelRun(runId);
      delete process.env["GPU_DAG_TEST_UI_SECRET"];
    }
    const ui = await startUi({ home: store.home });
    try {
      const step = async (name: string) => {
        const response = await fetch(`http://127.0.0.1:${ui.port}/api/runs/${runId}/steps/${encodeURIComponent(name)}`, { headers: { "x-gpu-dag-token": ui.token } });
        expect(response.status).toBe(200);
        const text = await response.text();
        expect(text).not.toContain(secret);
        return (JSON.parse(text) as { attempts: Array<{ scripts: { sbatch?: string; element?: string } }> }).attempts[0]!.scripts;
      };
      const single = await step("one");
      expect(single.sbatch).toMatch(/^#!\/bin\/bash/);
      expect(single.sbatch).toContain(`#SBATCH --partition=${env.partitions.cpu}`);
      expect(single.sbatch).toContain(`#SBATCH --job-name=gd-${runId}-one-a1`);
      expect(single.element).toBeUndefined();
      const element = await step("gen[1]");
      expect(element.sbatch).toMatch(/#SBATCH --array=0-1\b/);
      expect(element.element).toContain("n=1");
    } finally {
      await ui.close();
      await store.close();
    }
  });
});

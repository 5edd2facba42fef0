/**
 * Helpers of the study tests: a synthetic two-step pipeline whose objective has a known maximum,
 * run by real processes on the local backend, with job-side marker files (one line each time a
 * job really ran) so a test can tell that no trial's job ran twice.
 *
 * The pipeline: `base` (cached: the same in every trial) → `score`, which reports
 * `score = 10 − (x − 4)² − 3·(y − 1)² + limit/1000` — largest at x = 4, y = 1 — and fails (exit 3)
 * when x equals `fail_at`, or reports no `score` when x equals `nometric_at`. With `prep: true`
 * a cached `prep` step (depending on x and y, not on `limit`) comes before `score`.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Pipeline } from "../../../src/api/pipeline.js";
import type { Store } from "../../../src/store/store.js";
import { Task } from "../../../src/tasks/custom-task.js";

const SCRIPT = `
markers=$1; step=$2; x=$3; y=$4; secs=$5; fail_at=$6; nometric_at=$7; limit=$8
echo "$GPU_DAG_ATTEMPT $$" >> "$markers/$GPU_DAG_RUN_ID.$GPU_DAG_STEP"
sleep "$secs"
out="$GPU_DAG_OUTPUT_DIR/outputs.json"
if [ "$step" != score ]; then printf '{"metrics":{"ran":1}}\\n' > "$out"; exit 0; fi
if [ "$x" = "$fail_at" ]; then echo "synthetic failure at x=$x" >&2; exit 3; fi
if [ "$x" = "$nometric_at" ]; then printf '{"metrics":{"other":1}}\\n' > "$out"; exit 0; fi
awk -v x="$x" -v y="$y" -v l="$limit" 'BEGIN { printf "{\\"metrics\\":{\\"score\\":%.6f}}\\n", 10 - (x-4)*(x-4) - 3*(y-1)*(y-1) + l/1000 }' > "$out"
`;

/** Writes the step script into `dir` and stores a draft running it; returns the draft's id. */
export async function trialTask(store: Store, dir: string, markers: string): Promise<string> {
  const script = join(dir, "trial-step.sh");
  await writeFile(script, SCRIPT);
  const task = new Task({
    projectName: "study",
    taskName: "trial-step",
    command: ["sh", script, "{markers}", "{step}", "{x}", "{y}", "{secs}", "{fail_at}", "{nometric_at}", "{limit}"],
    parameters: { markers, step: "base", x: 0, y: 0, secs: 0, fail_at: -1, nometric_at: -1, limit: 0 },
  });
  await task.createTask({ store });
  return task.id!;
}

/** The synthetic pipeline (see the module comment); `secs` is each job's sleep. */
export function trialPipeline(taskId: string, options: { name?: string; secs?: number; prep?: boolean } = {}): Pipeline {
  const secs = options.secs ?? 0.05;
  const p = new Pipeline({ projectName: "study", pipelineName: options.name ?? "synthetic" });
  for (const [name, value] of [
    ["x", 0],
    ["y", 0],
    ["fail_at", -1],
    ["nometric_at", -1],
    ["limit", 0],
  ] as const)
    p.addParameter(name, value);
  p.addStep({ name: "base", baseTaskId: taskId, executionQueue: "cpu", cacheExecutedStep: true, parameterOverride: { step: "base", secs } });
  const xy = { x: "${pipeline.x}", y: "${pipeline.y}" };
  if (options.prep) p.addStep({ name: "prep", baseTaskId: taskId, executionQueue: "cpu", cacheExecutedStep: true, parameterOverride: { step: "prep", secs, ...xy } });
  p.addStep({
    name: "score",
    baseTaskId: taskId,
    parents: options.prep ? ["base", "prep"] : ["base"],
    executionQueue: "cpu",
    parameterOverride: { step: "score", secs, ...xy, fail_at: "${pipeline.fail_at}", nometric_at: "${pipeline.nometric_at}", limit: "${pipeline.limit}" },
  });
  return p;
}

/** The synthetic objective's value. */
export function synthetic(x: number, y: number, limit = 0): number {
  return 10 - (x - 4) ** 2 - 3 * (y - 1) ** 2 + limit / 1000;
}

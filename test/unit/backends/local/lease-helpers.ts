/**
 * Helpers of the machine-wide GPU lease tests: a job that records which GPUs it had and when
 * (wall-clock nanoseconds from `date`, comparable across processes), the records read back as
 * intervals, and the check that no two of them shared a GPU at one instant.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Pipeline } from "../../../../src/api/pipeline.js";
import type { Store } from "../../../../src/store/store.js";
import { Task } from "../../../../src/tasks/custom-task.js";

/**
 * A sh job: appends `start <devices> <ns> <pgid>` to `<markers>/<run>.<step>.<attempt>`, sleeps,
 * then appends `end <ns>`. A job killed mid-sleep leaves only its start line.
 */
export const INTERVAL_SCRIPT = `
markers=$1; secs=$2
f="$markers/$GPU_DAG_RUN_ID.$GPU_DAG_STEP.$GPU_DAG_ATTEMPT"
echo "start $CUDA_VISIBLE_DEVICES $(date +%s%N) $(ps -o pgid= -p $$ | tr -d ' ')" >> "$f"
sleep "$secs"
echo "end $(date +%s%N)" >> "$f"
printf '{"metrics":{"ran":1} }' > "$GPU_DAG_OUTPUT_DIR/outputs.json"
`;

/** The draft running {@link INTERVAL_SCRIPT}; steps override `secs`. */
export function intervalTask(markers: string): Task {
  return new Task({
    projectName: "leases",
    taskName: "interval",
    command: ["sh", "-c", INTERVAL_SCRIPT, "job", "{markers}", "{secs}"],
    parameters: { markers, secs: 0.3 },
  });
}

/**
 * A pipeline of independent steps on queues `gpu-x1` / `gpu-x2` (1 or 2 GPUs each): `one` steps
 * `g1…` and `two` steps `d1…`, all sleeping `secs`.
 */
export async function gpuPipeline(store: Store, markers: string, name: string, shape: { one: number; two: number; secs: number }): Promise<Pipeline> {
  const task = intervalTask(markers);
  await task.createTask({ store });
  const p = new Pipeline({ projectName: "leases", pipelineName: name });
  for (let i = 1; i <= shape.one; i++) p.addStep({ name: `g${i}`, baseTaskId: task.id!, executionQueue: "gpu-x1", parameterOverride: { secs: shape.secs } });
  for (let i = 1; i <= shape.two; i++) p.addStep({ name: `d${i}`, baseTaskId: task.id!, executionQueue: "gpu-x2", parameterOverride: { secs: shape.secs } });
  return p;
}

/** One recorded job. `end` is undefined for a job killed before it finished. */
export interface Interval {
  job: string;
  devices: string[];
  start: number;
  end?: number;
  pgid: number;
}

/** Every job's interval (times in ms since the epoch, fractional). */
export async function readIntervals(markers: string): Promise<Interval[]> {
  const out: Interval[] = [];
  for (const name of (await readdir(markers)).sort()) {
    const lines = (await readFile(join(markers, name), "utf8")).split("\n").filter(Boolean);
    const start = lines.find((l) => l.startsWith("start "))?.split(" ");
    const end = lines.find((l) => l.startsWith("end "))?.split(" ");
    if (!start) continue;
    out.push({
      job: name,
      devices: (start[1] ?? "").split(",").filter(Boolean),
      start: Number(start[2]) / 1e6,
      ...(end ? { end: Number(end[1]) / 1e6 } : {}),
      pgid: Number(start[3]),
    });
  }
  return out;
}

/**
 * Pairs of jobs that held one GPU at the same instant. `openUntil` closes intervals of jobs that
 * never wrote an end (killed): they count as holding their GPUs until then.
 */
export function overlaps(intervals: readonly Interval[], openUntil = Number.POSITIVE_INFINITY): string[] {
  const found: string[] = [];
  for (let i = 0; i < intervals.length; i++) {
    for (let j = i + 1; j < intervals.length; j++) {
      const a = intervals[i]!;
      const b = intervals[j]!;
      const shared = a.devices.filter((d) => b.devices.includes(d));
      if (shared.length === 0) continue;
      const aEnd = a.end ?? openUntil;
      const bEnd = b.end ?? openUntil;
      if (a.start < bEnd && b.start < aEnd) found.push(`${a.job} [${a.devices}] and ${b.job} [${b.devices}] both held GPU ${shared.join(",")}`);
    }
  }
  return found;
}

/**
 * Helpers of the durable-run tests: controllers in child processes, journal readers, marker files
 * that jobs append to (one line per time the job really ran), and a sh step that uses them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { Pipeline } from "../../../../src/api/pipeline.js";
import { replayJournal } from "../../../../src/runner/replay.js";
import type { FileStore } from "../../../../src/store/file-store.js";
import type { JournalEntry } from "../../../../src/store/records.js";
import type { Store } from "../../../../src/store/store.js";
import { Task } from "../../../../src/tasks/custom-task.js";

/** The repository root (child processes run there so `--import tsx` resolves). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

/**
 * A sh step: appends `<attempt> <pid>` to `<markers>/<step>` (so a job that ran twice leaves two
 * lines), checks every path in `inputs` exists, sleeps, writes `result.txt` and an outputs
 * manifest naming it. Fails with exit code 3 when an input is missing. (No `}}` in the script:
 * custom-task commands read `}}` as an escaped `}`.)
 */
export const MARKER_STEP_SCRIPT = `
markers=$1; step=$2; secs=$3; inputs=$4
echo "$GPU_DAG_ATTEMPT $$" >> "$markers/$step"
for f in $inputs; do test -f "$f" || { echo "missing input $f" >&2; exit 3; }; done
sleep "$secs"
echo "$step" > "$GPU_DAG_OUTPUT_DIR/result.txt"
printf '{"artifacts":[{"name":"result","path":"result.txt"}],"metrics":{"ran":1} }' > "$GPU_DAG_OUTPUT_DIR/outputs.json"
`;

/** A draft running {@link MARKER_STEP_SCRIPT}; steps override `step`, `secs`, `inputs`. */
export function markerTask(markers: string): Task {
  return new Task({
    projectName: "durable",
    taskName: "marker-step",
    command: ["sh", "-c", MARKER_STEP_SCRIPT, "job", "{markers}", "{step}", "{secs}", "{inputs}"],
    parameters: { markers, step: "none", secs: 0, inputs: "" },
  });
}

/** Lines of `<markers>/<step>` (how many times the step's job really ran); 0 when absent. */
export async function markerLines(markers: string, step: string): Promise<string[]> {
  const text = await readFile(join(markers, step), "utf8").catch(() => "");
  return text.split("\n").filter((l) => l !== "");
}

/** Every marker file, by step name, with its lines. */
export async function allMarkers(markers: string): Promise<Map<string, string[]>> {
  const names = await readdir(markers).catch(() => [] as string[]);
  const out = new Map<string, string[]>();
  for (const name of names.sort()) out.set(name, await markerLines(markers, name));
  return out;
}

/** Journal entries of one type. */
export function entriesOf<T extends JournalEntry["type"]>(entries: readonly JournalEntry[], type: T): Array<Extract<JournalEntry, { type: T }>> {
  return entries.filter((e): e is Extract<JournalEntry, { type: T }> => e.type === type);
}

/** `attempt-finished` entries of `step`, in order. */
export async function finishedAttempts(store: Store, runId: string, step: string): Promise<Array<Extract<JournalEntry, { type: "attempt-finished" }>>> {
  return entriesOf(await store.readJournal(runId), "attempt-finished").filter((e) => e.step === step);
}

/** A child process running `node --import tsx <args>` from the repository root. */
export function spawnTsx(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ChildProcess & { output: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once("exit", (code, signal) => res({ code, signal })));
  return Object.assign(child, { output: () => output, exited });
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The fault-injection pipeline: marker steps `sNN`, each with 0–3 parents among the 6 steps before
 * it, sleeping 50–300 ms, and checking its parents' artifacts exist (an output lost across a
 * crash fails it). Returns each step's parents too.
 */
export function faultPipeline(rng: () => number, taskId: string, steps: number, pipelineName: string): { pipeline: Pipeline; parents: Map<string, string[]> } {
  const pipeline = new Pipeline({ projectName: "durable", pipelineName });
  const parents = new Map<string, string[]>();
  for (let i = 0; i < steps; i++) {
    const name = `s${String(i).padStart(2, "0")}`;
    const candidates = Array.from({ length: Math.min(i, 6) }, (_, k) => `s${String(i - 1 - k).padStart(2, "0")}`);
    const chosen = candidates.filter(() => rng() < 0.35).slice(0, 3);
    parents.set(name, chosen);
    const secs = (0.05 + rng() * 0.25).toFixed(3);
    pipeline.addStep({
      name,
      baseTaskId: taskId,
      parents: chosen,
      executionQueue: "cpu",
      parameterOverride: { step: name, secs, inputs: chosen.map((p) => `\${${p}.artifacts.result.url}`).join(" ") },
    });
  }
  return { pipeline, parents };
}

/**
 * The fault-injection verdict on a finished run of {@link faultPipeline}: every step succeeded
 * exactly once — one line in its job-side marker file (the job really ran once), one succeeded
 * attempt in the journal (any other attempt lost before its job started), one backend job per
 * attempt, and every output it recorded exists with what the job wrote.
 */
export async function expectEachStepRanOnce(store: FileStore, entries: readonly JournalEntry[], parents: ReadonlyMap<string, string[]>, markers: string): Promise<void> {
  const replay = replayJournal(entries, [...parents.keys()]);
  // Every job ran exactly once: one marker line per step.
  const markerFiles = await allMarkers(markers);
  expect([...markerFiles.keys()]).toEqual([...parents.keys()]);
  for (const [step, lines] of markerFiles) expect(lines, `marker of ${step}`).toHaveLength(1);

  const finished = entriesOf(entries, "attempt-finished");
  const submitted = entriesOf(entries, "job-submitted");
  for (const step of parents.keys()) {
    const s = replay.steps.get(step)!;
    expect(s.status, step).toBe("succeeded");
    const succeeded = finished.filter((e) => e.step === step && e.status === "succeeded");
    expect(succeeded, `succeeded attempts of ${step}`).toHaveLength(1);
    // Any other attempt was lost before its job started (never a job's own failure or a second run).
    for (const other of finished.filter((e) => e.step === step && e.status !== "succeeded")) {
      expect(other.status, `${step} attempt ${other.attempt}: ${other.reason}`).toBe("lost");
    }
    // The attempt that ran is the one the marker names.
    const [line] = markerFiles.get(step)!;
    expect(Number(line!.split(" ")[0]), step).toBe(succeeded[0]!.attempt);
    // One backend job per attempt: never two submissions of one attempt under different ids.
    const ids = new Map<number, Set<string>>();
    for (const e of submitted.filter((e) => e.step === step)) ids.set(e.attempt, (ids.get(e.attempt) ?? new Set()).add(e.backendJobId));
    for (const [attempt, set] of ids) expect(set.size, `${step} attempt ${attempt} job ids`).toBe(1);

    // Every recorded output exists, in the store and on disk, with what the job wrote.
    const outputs = s.outputs!;
    expect(outputs.artifacts.map((a) => a.name)).toEqual(["result"]);
    const artifact = outputs.artifacts[0]!;
    expect(await store.getArtifact(artifact.id), `${step} artifact record`).toBeDefined();
    expect((await readFile(artifact.path, "utf8")).trim()).toBe(step);
    expect(outputs.metrics).toEqual({ ran: 1 });
  }
}

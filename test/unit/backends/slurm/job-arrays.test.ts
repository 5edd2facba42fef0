import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JobSpec, type JobState, jobNameFor } from "../../../../src/backends/queue-backend.js";
import { arrayIdOf, scancelIds } from "../../../../src/backends/slurm/array-ids.js";
import { arrayJobName, planSubmission, spreadThrottle } from "../../../../src/backends/slurm/array-plan.js";
import { renderSecretEnv } from "../../../../src/backends/slurm/batch-script.js";
import { checkedInputFiles } from "../../../../src/backends/slurm/input-files.js";
import { pollStates } from "../../../../src/backends/slurm/poll-states.js";
import { renderSlurmSubmission } from "../../../../src/backends/slurm/render-arrays.js";
import { remoteAttemptDir, type SlurmJobConfig, stepDirName } from "../../../../src/backends/slurm/resolve-job.js";
import { BackendError } from "../../../../src/errors.js";

const config: SlurmJobConfig = {
  jobDir: "/shared/me/gpu-dag",
  account: "llm",
  partition: "cpu",
  queues: {
    "gen-a100x1": { partition: "gpu-a100", gpus: 1, nodes: 1, cpus: 8, mem: "64G", time: 3600, extraSbatch: [] },
    other: { partition: "cpu", nodes: 1, extraSbatch: [] },
  },
  env: { HF_HOME: "/shared/hf cache" },
  setup: [],
  python: "/shared/venv/bin/python",
  containers: {},
  mounts: [],
};

/** Element `index` of map `gen` (attempt 1), as the runner builds it. */
function element(index: number, over: Partial<JobSpec> = {}, throttle?: number): JobSpec {
  const step = `gen[${index}]`;
  return {
    jobName: jobNameFor("run1", step, 1),
    runId: "run1",
    step,
    attempt: 1,
    queue: "gen-a100x1",
    resources: { gpus: 1, nodes: 1, cpus: 8, mem: "64G", timeLimitSeconds: 3600 },
    argv: ["python", "-m", "gpu_dag_runtime.generate", `++seed=${index % 2}`, `++chunk=${Math.floor(index / 2)}`, "++note=it's $cheap"],
    env: { SEED: String(index % 2) },
    secretEnv: { HF_TOKEN: "hf_SECRET_never_in_script" },
    attemptDir: `/local/runs/run1/gen[${index}]/a1`,
    priority: 0,
    group: { key: "gen/a1", map: "gen", index, ...(throttle !== undefined ? { throttle } : {}) },
    ...over,
  };
}

describe("stepDirName / remoteAttemptDir", () => {
  it("keeps plain step names, writes a map element as gen.3, and never lets two step names share a directory", () => {
    expect(stepDirName("compress")).toBe("compress");
    expect(stepDirName("eval_mmlu-5")).toBe("eval_mmlu-5");
    expect(stepDirName("gen[3]")).toBe("gen.3");
    const names = ["gen[3]", "gen_3_", "gen.3", "gen+5B3+5D", "gen[03]", "a b", "a_b", "a/b", "..", ".", "", "+", "ü", "gen[3]x", "gen[]"];
    const dirs = names.map(stepDirName);
    expect(new Set(dirs).size).toBe(names.length);
    for (const dir of dirs) expect(dir).toMatch(/^[A-Za-z0-9_+-][A-Za-z0-9_.+-]*$/);
    expect(remoteAttemptDir("/j", { runId: "r1", step: "gen[3]", attempt: 2 })).toBe("/j/r1/gen.3/a2");
    expect(remoteAttemptDir("/j", { runId: "r1", step: "gen_3_", attempt: 2 })).toBe("/j/r1/gen_3_/a2");
  });
});

describe("planSubmission", () => {
  it("groups elements by group key, queue and resources; singletons and ungrouped specs go alone", () => {
    const specs = [
      element(0),
      element(1),
      (({ group: _, ...rest }) => ({ ...rest, jobName: "plain", step: "plain" }))(element(0)),
      element(2, { queue: "other" }),
      element(3, { resources: { gpus: 1, nodes: 1, cpus: 8, mem: "64G", timeLimitSeconds: 3600 } }),
      element(4, { resources: { nodes: 1, gpus: 1, timeLimitSeconds: 3600, mem: "64G", cpus: 8 } }), // same resources, other key order
      element(5, { resources: { gpus: 2, nodes: 1 } }),
    ];
    const plan = planSubmission(specs, 1001);
    expect(plan.arrays.map((a) => a.specIndices)).toEqual([[0, 1, 4, 5]]);
    expect(plan.singles).toEqual([2, 3, 6]);
  });

  it("orders an array by element index, chunks it at MaxArraySize and spreads the throttle over the chunks", () => {
    const specs = Array.from({ length: 10 }, (_, i) => element(9 - i, {}, 3));
    const plan = planSubmission(specs, 4);
    expect(plan.arrays.map((a) => a.specIndices.map((i) => specs[i]?.group?.index))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(plan.arrays.map((a) => a.throttle)).toEqual([1, 1, 1]);
    expect(plan.arrays.some((a) => a.after !== undefined)).toBe(false);
    expect(planSubmission(specs, 1001).arrays.map((a) => a.throttle)).toEqual([3]);
    // No throttle: no %K; throttle at least the element count: none needed.
    expect(planSubmission([element(0), element(1)], 1001).arrays[0]?.throttle).toBeUndefined();
    expect(planSubmission([element(0, {}, 8), element(1, {}, 8)], 1001).arrays[0]?.throttle).toBeUndefined();
  });

  it("with more chunks than the throttle, chunk j waits for chunk j − K: never more than K running", () => {
    const specs = Array.from({ length: 7 }, (_, i) => element(i, {}, 2));
    const plan = planSubmission(specs, 2);
    expect(plan.arrays.map((a) => [a.throttle, a.after])).toEqual([
      [1, undefined],
      [1, undefined],
      [1, 0],
      [undefined, 1], // one element: no %1 needed
    ]);
  });

  it("goes without arrays when the cluster allows none (MaxArraySize below 2)", () => {
    expect(planSubmission([element(0), element(1)], 1)).toEqual({ singles: [0, 1], arrays: [] });
  });

  it("spreads K slots round-robin, no chunk over its size", () => {
    expect(spreadThrottle(8, [1001, 1])).toEqual([7, 1]);
    expect(spreadThrottle(3, [5, 5, 5, 5])).toEqual([1, 1, 1, 0]);
    expect(spreadThrottle(100, [3, 4])).toEqual([3, 4]);
  });

  it("names an array after its first element, its size and a hash of its elements", () => {
    const names = ["gd-r-gen.0-a1", "gd-r-gen.1-a1"];
    expect(arrayJobName("gen/a1", names)).toMatch(/^gd-r-gen\.0-a1-arr2-[0-9a-f]{8}$/);
    expect(arrayJobName("gen/a1", names)).toBe(arrayJobName("gen/a1", names));
    expect(arrayJobName("gen/a1", [...names].reverse())).not.toBe(arrayJobName("gen/a1", names));
    expect(arrayJobName("gen/a2", names)).not.toBe(arrayJobName("gen/a1", names));
  });
});

describe("renderSlurmSubmission (what the dry run shows of a map)", () => {
  const specs = [0, 1, 2, 3].map((i) => element(i, {}, 2));

  it("renders the array script and each element's own script (snapshots)", async () => {
    const rendered = renderSlurmSubmission(config, specs, config.jobDir);
    expect(rendered.singles).toEqual([]);
    expect(rendered.arrays).toHaveLength(1);
    const array = rendered.arrays[0]!;
    expect(array.throttle).toBe(2);
    expect(array.elements.map((e) => [e.step, e.remoteAttemptDir])).toEqual(specs.map((s, i) => [s.step, `/shared/me/gpu-dag/run1/gen.${i}/a1`]));
    await expect(array.script).toMatchFileSnapshot("__snapshots__/map-array.sbatch");
    await expect(array.elements[1]!.script).toMatchFileSnapshot("__snapshots__/map-element.sh");
    expect(array.script).toContain("#SBATCH --array=0-3%2");
    expect(array.script).toContain(`#SBATCH --output=${array.arrayDir}/%A_%a.out`);
    expect(array.elements[1]!.script).not.toContain("#SBATCH");
  });

  it("never puts a secret into any script, and chunks like submit", () => {
    const rendered = renderSlurmSubmission(config, specs, config.jobDir, { maxArraySize: 3 });
    // The last chunk holds one element: still an array (`--array=0`), so the map's throttle and
    // a resume treat it like its siblings.
    expect(rendered.arrays.map((a) => a.elements.length)).toEqual([3, 1]);
    expect(rendered.arrays[1]?.script).toContain("#SBATCH --array=0\n");
    expect(rendered.singles).toEqual([]);
    const all = JSON.stringify(rendered);
    expect(all).not.toContain("hf_SECRET_never_in_script");
    expect(all).not.toContain("HF_TOKEN");
  });

  it("refuses an input file path that leaves the attempt directory or overwrites gpu-dag's own files, naming the step", () => {
    expect(() => renderSlurmSubmission(config, [element(0, { inputFiles: { "../escape": "x" } }), element(1)], config.jobDir)).toThrow(/step "gen\[0\]": input file "\.\.\/escape"/);
    expect(() => checkedInputFiles({ "outputs.json": "{}" })).toThrow(/gpu-dag's own outputs.json/);
    expect(() => checkedInputFiles({ "/etc/passwd": "" })).toThrow(BackendError);
    expect(checkedInputFiles({ "b.json": "2", "in/a.json": "1" })).toEqual([
      { path: "b.json", content: "2" },
      { path: "in/a.json", content: "1" },
    ]);
  });
});

describe("the array script, run by bash", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gd-array-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("runs task i's own script in element i's directory, its output in that directory's logs", async () => {
    const specs = [0, 1, 2].map((i) =>
      element(i, {
        queue: "other",
        resources: { gpus: 0, nodes: 1 },
        argv: ["sh", "-c", 'echo "out of $GPU_DAG_STEP in $PWD seed=$SEED token=$HF_TOKEN"; echo "err $1" >&2; exit "$1"', "sh", String(i)],
      }),
    );
    const rendered = renderSlurmSubmission({ ...config, env: {} }, specs, dir);
    const array = rendered.arrays[0]!;
    await mkdir(array.arrayDir, { recursive: true });
    await writeFile(join(array.arrayDir, "job.sbatch"), array.script);
    for (const e of array.elements) {
      await mkdir(e.remoteAttemptDir, { recursive: true });
      await writeFile(join(e.remoteAttemptDir, "job.sbatch"), e.script);
    }
    await writeFile(join(array.elements[2]!.remoteAttemptDir, ".secret.env"), renderSecretEnv({ HF_TOKEN: "t2" }), { mode: 0o600 });
    const runTask = (task: string): number => {
      try {
        execFileSync("bash", [join(array.arrayDir, "job.sbatch")], { cwd: array.arrayDir, env: { ...process.env, SLURM_ARRAY_TASK_ID: task }, stdio: "pipe" });
        return 0;
      } catch (error) {
        return (error as { status: number }).status;
      }
    };
    expect(runTask("2")).toBe(2);
    expect(runTask("0")).toBe(0);
    const e2 = array.elements[2]!.remoteAttemptDir;
    expect(await readFile(join(e2, "stdout.log"), "utf8")).toBe(`out of gen[2] in ${e2} seed=0 token=t2\n`);
    expect(await readFile(join(e2, "stderr.log"), "utf8")).toBe("err 2\n");
    expect(await readFile(join(e2, "exit_code"), "utf8")).toBe("2\n");
    expect(await readFile(join(array.elements[0]!.remoteAttemptDir, "exit_code"), "utf8")).toBe("0\n");
    await expect(readFile(join(array.elements[1]!.remoteAttemptDir, "stdout.log"))).rejects.toThrow(/ENOENT/);
    expect(runTask("7")).toBe(2);
  });
});

describe("scancelIds", () => {
  const arrays = new Map([["12", new Set(["12_0", "12_1", "12_2"])]]);
  it("names a whole array by its id when every element goes (or already ended), elements otherwise", () => {
    expect(scancelIds(["12_0", "12_1", "12_2", "7"], arrays, () => false)).toEqual(["12", "7"]);
    expect(scancelIds(["12_0", "12_2"], arrays, (id) => id === "12_1")).toEqual(["12"]);
    expect(scancelIds(["12_1"], arrays, () => false)).toEqual(["12_1"]);
    // An element of an array this backend did not submit (adopted): only itself.
    expect(scancelIds(["40_3"], arrays, () => true)).toEqual(["40_3"]);
    expect([arrayIdOf("12_3"), arrayIdOf("12")]).toEqual(["12", undefined]);
  });
});

describe("pollStates", () => {
  it("a job this backend scancelled that Slurm forgot (a pending array element) is cancelled, not lost; others unknown are lost", () => {
    const states = new Map<string, JobState>();
    const answers = { infos: new Map(), markers: new Map([["9_1", 0]]), timedOut: new Set<string>(), cancelled: new Set(["9_4", "9_1"]) };
    pollStates(["9_4", "9_5", "9_1"], answers, new Map(), () => undefined, states);
    expect(states.get("9_4")).toEqual({ status: "cancelled", reason: "Slurm job 9_4 cancelled before it started" });
    expect(states.get("9_5")?.status).toBe("lost");
    // It had ended before the scancel came: its marker says how.
    expect(states.get("9_1")).toEqual({ status: "succeeded", exitCode: 0 });
  });
});

/**
 * The ONE conformance suite every {@link QueueBackend} passes unchanged (local process pool,
 * Slurm over SSH, Slurm on a login node). Call {@link runQueueBackendConformance} from a test
 * file; it registers a `describe` block of vitest tests that run real jobs (`sh` one-liners).
 *
 * ```ts
 * runQueueBackendConformance("local", async () => ({ backend, makeSpec, maxConcurrent: 2, … }));
 * ```
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTerminal, type JobSpec, type JobState, OUTPUTS_FILE, type QueueBackend, STDOUT_FILE } from "../../src/backends/queue-backend.js";
import { readOutputsManifest } from "../../src/manifest/outputs-manifest.js";

/** What the suite asks of a spec; the harness fills in the rest (names, dirs, queue). */
export interface ConformanceSpecOptions {
  /** Step name, unique within the harness. */
  step: string;
  argv: readonly string[];
  env?: Record<string, string>;
  secretEnv?: Record<string, string>;
  /**
   * The job's final wall-clock limit (`spec.resources.timeLimitSeconds`). The harness's queue
   * sets a much longer limit of its own where the backend has queue limits: the spec's must win.
   */
  timeLimitSeconds?: number;
}

/** What a backend under test provides. */
export interface ConformanceHarness {
  backend: QueueBackend;
  /**
   * A spec for a CPU job with a unique job name and attempt directory. All specs use the same
   * queue, in which at most {@link maxConcurrent} jobs run at once.
   */
  makeSpec(options: ConformanceSpecOptions): JobSpec;
  /** How many jobs of {@link makeSpec} run at once; the suite submits one more to get a queued job. */
  maxConcurrent: number;
  /** Directories (besides each spec's `attemptDir`) where the backend keeps job files, scanned for secrets. */
  jobFileDirs: readonly string[];
  /** A new backend instance on the same jobs (as a restarted controller would create). */
  reopen(): Promise<QueueBackend>;
  /** An id the backend has never issued (default `999999999`). */
  unknownJobId?: string;
  /** Closes backends, cancels leftovers, removes temp dirs. */
  cleanup(): Promise<void>;
}

const WAIT_MS = 90_000;

/** Collects every update of a backend; resolves waits when ids reach a predicate. */
class Watcher {
  readonly states = new Map<string, JobState>();
  readonly #waiters = new Set<() => void>();
  readonly unsubscribe: () => void;

  constructor(backend: QueueBackend) {
    this.unsubscribe = backend.onUpdate((id, state) => {
      this.states.set(id, state);
      for (const w of [...this.#waiters]) w();
    });
  }

  until(ids: readonly string[], predicate: (state: JobState) => boolean, what: string, ms = WAIT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (
          ids.every((id) => {
            const s = this.states.get(id);
            return s !== undefined && predicate(s);
          })
        ) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        const seen = ids.map((id) => `${id}: ${JSON.stringify(this.states.get(id))}`).join("; ");
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; states: ${seen}`));
      }, ms);
      this.#waiters.add(check);
      check();
    });
  }
}

/** Polls until `predicate` holds for every id (for states that onUpdate need not report, e.g. queued). */
async function pollUntil(backend: QueueBackend, ids: readonly string[], predicate: (states: Map<string, JobState>) => boolean, what: string, ms = WAIT_MS): Promise<Map<string, JobState>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const states = await backend.poll(ids);
    if (predicate(states)) return states;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify([...states])}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Values full of shell metacharacters; each must reach the job's argv byte for byte. */
export const NASTY_VALUES: readonly string[] = [
  "",
  " ",
  "plain",
  "two words",
  "$HOME",
  "${PATH}",
  "$(echo pwned)",
  "`echo pwned`",
  "'single'",
  '"double"',
  "back\\slash",
  "semi;colon && and || or | pipe",
  "<in >out 2>&1",
  "glob * ? [a-z]",
  "~tilde",
  "!bang !! #hash",
  "new\nline",
  "tab\there",
  "unicode ünïcødé ✓ 日本",
  "-n",
  "--flag=a b",
  "%s%n%d",
  'it\'s "mixed" $x `y` \\z',
];

/** Registers the conformance tests for one backend. */
export function runQueueBackendConformance(name: string, makeBackend: () => Promise<ConformanceHarness>): void {
  describe(`QueueBackend conformance: ${name}`, () => {
    let h: ConformanceHarness;
    let watcher: Watcher;

    beforeAll(async () => {
      h = await makeBackend();
      watcher = new Watcher(h.backend);
    });
    afterAll(async () => {
      watcher?.unsubscribe();
      await h?.cleanup();
    });

    it("submit → succeeded with exit 0; collect brings stdout.log and a valid outputs.json", async () => {
      const spec = h.makeSpec({
        step: "ok",
        argv: ["sh", "-c", `echo hello-stdout; echo hello-stderr >&2; printf '%s' '{"metrics":{"acc":0.5}}' > "$GPU_DAG_OUTPUT_DIR/${OUTPUTS_FILE}"`],
      });
      const [job] = await h.backend.submit([spec]);
      expect(job?.jobName).toBe(spec.jobName);
      const id = job!.backendJobId;
      await watcher.until([id], isTerminal, "job to end");
      expect(watcher.states.get(id)).toMatchObject({ status: "succeeded", exitCode: 0 });
      expect((await h.backend.poll([id])).get(id)).toMatchObject({ status: "succeeded", exitCode: 0 });
      await h.backend.collect(id);
      expect(await readFile(join(spec.attemptDir, STDOUT_FILE), "utf8")).toContain("hello-stdout");
      const manifest = await readOutputsManifest(join(spec.attemptDir, OUTPUTS_FILE));
      expect(manifest.metrics).toEqual({ acc: 0.5 });
    });

    it("a job exiting 3 → failed with exitCode 3, not infrastructure; its log tail is readable", async () => {
      const spec = h.makeSpec({ step: "fail3", argv: ["sh", "-c", "echo about-to-fail; echo oops >&2; exit 3"] });
      const [job] = await h.backend.submit([spec]);
      const id = job!.backendJobId;
      await watcher.until([id], isTerminal, "job to end");
      expect(watcher.states.get(id)).toMatchObject({ status: "failed", exitCode: 3, infrastructure: false });
      expect(await h.backend.logs(id)).toContain("about-to-fail");
      expect(await h.backend.logs(id, { stream: "stderr" })).toContain("oops");
    });

    it("cancel stops running and queued jobs", async () => {
      const specs = Array.from({ length: h.maxConcurrent + 1 }, (_, i) => h.makeSpec({ step: `cancel${i}`, argv: ["sh", "-c", "echo started; sleep 300"] }));
      const ids = (await h.backend.submit(specs)).map((j) => j.backendJobId);
      const before = await pollUntil(
        h.backend,
        ids,
        (s) => [...s.values()].filter((x) => x.status === "running").length === h.maxConcurrent && [...s.values()].some((x) => x.status === "queued"),
        `${h.maxConcurrent} running and 1 queued`,
      );
      expect([...before.values()].map((s) => s.status).sort()).toEqual([...Array(h.maxConcurrent).fill("running"), "queued"].sort());
      await h.backend.cancel(ids);
      await watcher.until(ids, isTerminal, "cancelled jobs to end");
      for (const id of ids) expect(watcher.states.get(id)?.status).toBe("cancelled");
    });

    it("logs returns the tail of a running job's stdout and stderr", async () => {
      const spec = h.makeSpec({
        step: "logs",
        argv: ["sh", "-c", 'i=0; while [ $i -lt 1000 ]; do echo "line-$i"; i=$((i+1)); done; echo err-tail >&2; sleep 300'],
      });
      const [job] = await h.backend.submit([spec]);
      const id = job!.backendJobId;
      try {
        const deadline = Date.now() + WAIT_MS;
        let text = "";
        while (!text.includes("line-999") && Date.now() < deadline) {
          text = await h.backend.logs(id);
          await new Promise((r) => setTimeout(r, 200));
        }
        expect(text).toContain("line-999\n");
        const tail = await h.backend.logs(id, { tailBytes: 20 });
        expect(tail.length).toBeLessThanOrEqual(20);
        expect(tail.endsWith("line-999\n")).toBe(true);
        expect(await h.backend.logs(id, { stream: "stderr" })).toContain("err-tail");
      } finally {
        await h.backend.cancel([id]);
      }
      await watcher.until([id], isTerminal, "cancelled job to end");
    });

    it("polls many ids in one call", async () => {
      const specs = Array.from({ length: 6 }, (_, i) => h.makeSpec({ step: `many${i}`, argv: ["sh", "-c", `exit ${i % 2 ? 3 : 0}`] }));
      const ids = (await h.backend.submit(specs)).map((j) => j.backendJobId);
      expect(new Set(ids).size).toBe(6);
      await watcher.until(ids, isTerminal, "all jobs to end");
      const states = await h.backend.poll(ids);
      expect(states.size).toBe(6);
      ids.forEach((id, i) => expect(states.get(id)?.status).toBe(i % 2 ? "failed" : "succeeded"));
    });

    it("an unknown id polls as lost", async () => {
      const unknown = h.unknownJobId ?? "999999999";
      const states = await h.backend.poll([unknown]);
      expect(states.get(unknown)?.status).toBe("lost");
    });

    it("argv with shell metacharacters reaches the job exactly", async () => {
      const spec = h.makeSpec({
        step: "argv",
        argv: ["sh", "-c", 'for a in "$@"; do printf "%s\\0" "$a"; done', "sh", ...NASTY_VALUES],
      });
      const [job] = await h.backend.submit([spec]);
      const id = job!.backendJobId;
      await watcher.until([id], isTerminal, "job to end");
      expect(watcher.states.get(id)?.status).toBe("succeeded");
      await h.backend.collect(id);
      const out = await readFile(join(spec.attemptDir, STDOUT_FILE), "utf8");
      expect(out.split("\0").slice(0, -1)).toEqual(NASTY_VALUES);
    });

    it("secretEnv reaches the job's environment and no file under the attempt or job directories", async () => {
      const secret = `sek-${randomBytes(12).toString("hex")}-'"$x;\``;
      const spec = h.makeSpec({
        step: "secret",
        argv: ["sh", "-c", 'printf "%s" "$GPU_DAG_TEST_SECRET" | od -An -tx1 | tr -d " \\n"; echo; echo "plain=$PLAIN_VAR"'],
        env: { PLAIN_VAR: "visible" },
        secretEnv: { GPU_DAG_TEST_SECRET: secret },
      });
      const [job] = await h.backend.submit([spec]);
      const id = job!.backendJobId;
      await watcher.until([id], isTerminal, "job to end");
      expect(watcher.states.get(id)?.status).toBe("succeeded");
      await h.backend.collect(id);
      const out = await readFile(join(spec.attemptDir, STDOUT_FILE), "utf8");
      expect(out).toContain(Buffer.from(secret).toString("hex"));
      expect(out).toContain("plain=visible");
      const files = [...(await filesUnder(spec.attemptDir)), ...(await Promise.all(h.jobFileDirs.map(filesUnder))).flat()];
      expect(files.length).toBeGreaterThan(0);
      const leaks: string[] = [];
      for (const file of files) {
        if ((await stat(file)).size > 50_000_000) continue;
        if ((await readFile(file)).includes(secret)) leaks.push(file);
      }
      expect(leaks).toEqual([]);
    });

    it("one controller per run, backend side: a second instance submitting a live job's name with reuseExisting gets that job, which runs once", async () => {
      // What a resumed (or twin) controller does for an attempt it finds planned but not recorded
      // as submitted: the deterministic job name finds the job the first controller submitted.
      const spec = h.makeSpec({ step: "twin", argv: ["sh", "-c", "echo ran-once; sleep 2"] });
      const [job] = await h.backend.submit([spec]);
      const id = job!.backendJobId;
      await watcher.until([id], (s) => s.status === "running" || isTerminal(s), "first job to start");
      const second = await h.reopen();
      try {
        const [again] = await second.submit([spec], { reuseExisting: true });
        expect(again!.backendJobId).toBe(id);
        await watcher.until([id], isTerminal, "the job to end");
        expect(watcher.states.get(id)).toMatchObject({ status: "succeeded", exitCode: 0 });
        await h.backend.collect(id);
        expect((await readFile(join(spec.attemptDir, STDOUT_FILE), "utf8")).match(/ran-once/g)).toHaveLength(1);
      } finally {
        await second.close();
      }
    });

    it("a job outliving its time limit is stopped and fails with the time-limit reason", async () => {
      const spec = h.makeSpec({ step: "limit", argv: ["sh", "-c", "echo started; sleep 60; echo not-reached"], timeLimitSeconds: 3 });
      expect(spec.resources.timeLimitSeconds).toBe(3);
      const submittedAt = Date.now();
      const [job] = await h.backend.submit([spec]);
      const id = job!.backendJobId;
      await watcher.until([id], isTerminal, "time-limited job to end", 45_000);
      const endedAfterMs = Date.now() - submittedAt;
      const state = watcher.states.get(id);
      expect(state).toMatchObject({ status: "failed", infrastructure: false });
      expect(state?.status === "failed" && state.reason).toContain("time limit of 3s exceeded");
      // sleep 60 was cut short: the limit is enforced to the second, not rounded to a minute.
      expect(endedAfterMs).toBeLessThan(40_000);
      await h.backend.collect(id);
      const out = await readFile(join(spec.attemptDir, STDOUT_FILE), "utf8");
      expect(out).toContain("started");
      expect(out).not.toContain("not-reached");
    });

    it("every job gets GPU_DAG_RUN_ID, GPU_DAG_STEP, GPU_DAG_ATTEMPT and GPU_DAG_OUTPUT_DIR", async () => {
      const spec = h.makeSpec({
        step: "jobenv",
        argv: ["sh", "-c", 'printf "%s\\n" "run=$GPU_DAG_RUN_ID" "step=$GPU_DAG_STEP" "attempt=$GPU_DAG_ATTEMPT" "out=$GPU_DAG_OUTPUT_DIR"'],
        // The job's own env cannot override what gpu-dag says about the job.
        env: { GPU_DAG_STEP: "spoofed" },
      });
      const [job] = await h.backend.submit([spec]);
      const id = job!.backendJobId;
      await watcher.until([id], isTerminal, "job to end");
      expect(watcher.states.get(id)?.status).toBe("succeeded");
      await h.backend.collect(id);
      const lines = (await readFile(join(spec.attemptDir, STDOUT_FILE), "utf8")).trim().split("\n");
      const jobDir = job!.jobDir ?? (await h.backend.jobDirFor?.(spec)) ?? spec.attemptDir;
      expect(lines.slice(0, 4)).toEqual([`run=${spec.runId}`, `step=${spec.step}`, `attempt=${spec.attempt}`, `out=${jobDir}`]);
    });

    it("a new backend instance adopts a job by id and sees it finish", async () => {
      const spec = h.makeSpec({ step: "adopt", argv: ["sh", "-c", "sleep 2; echo adopted-output"] });
      const [job] = await h.backend.submit([spec]);
      const id = job!.backendJobId;
      const second = await h.reopen();
      const seen = new Watcher(second);
      try {
        const first = await second.adopt(spec, id);
        expect(["queued", "running", "succeeded"]).toContain(first.status);
        if (!isTerminal(first)) await seen.until([id], isTerminal, "adopted job to end");
        const final = isTerminal(first) ? first : seen.states.get(id);
        expect(final).toMatchObject({ status: "succeeded", exitCode: 0 });
        await second.collect(id);
        expect(await readFile(join(spec.attemptDir, STDOUT_FILE), "utf8")).toContain("adopted-output");
      } finally {
        seen.unsubscribe();
        await second.close();
      }
    });

    it("map elements (JobSpec.group) each get their own id, state, logs and outputs; cancelling one leaves the others", async () => {
      // A backend may carry them as one array job (Slurm) or as jobs of their own (local); the
      // contract is the same either way. Element 1 sleeps and is cancelled alone.
      const elements = [0, 1, 2].map((index) => ({
        ...h.makeSpec({
          step: `conf-map[${index}]`,
          argv: index === 1 ? ["sleep", "300"] : ["sh", "-c", `echo element-${index}; printf '{"metrics":{"index":${index}}}' > "$GPU_DAG_OUTPUT_DIR/${OUTPUTS_FILE}"`],
        }),
        group: { key: "conf-map/a1", map: "conf-map", index },
      }));
      const jobs = await h.backend.submit(elements);
      expect(jobs.map((j) => j.jobName)).toEqual(elements.map((e) => e.jobName));
      const ids = jobs.map((j) => j.backendJobId);
      expect(new Set(ids).size).toBe(3);
      await h.backend.cancel([ids[1]!]);
      await watcher.until(ids, isTerminal, "every element to end");
      expect(ids.map((id) => watcher.states.get(id)?.status)).toEqual(["succeeded", "cancelled", "succeeded"]);
      for (const index of [0, 2]) {
        await h.backend.collect(ids[index]!);
        const dir = elements[index]!.attemptDir;
        expect(await readFile(join(dir, STDOUT_FILE), "utf8")).toBe(`element-${index}\n`);
        expect(JSON.parse(await readFile(join(dir, OUTPUTS_FILE), "utf8"))).toEqual({ metrics: { index } });
      }
      const dirs = await Promise.all(jobs.map(async (j, i) => j.jobDir ?? (await h.backend.jobDirFor?.(elements[i]!)) ?? elements[i]!.attemptDir));
      expect(new Set(dirs).size).toBe(3);
    });

    it("a listener that throws breaks neither the backend nor the listeners after it", async () => {
      const thrownFor: string[] = [];
      const unsubscribeThrower = h.backend.onUpdate((id) => {
        thrownFor.push(id);
        throw new Error("a listener's own bug");
      });
      // Subscribed after the thrower, so it is called after it for every update.
      const after = new Watcher(h.backend);
      try {
        const first = h.makeSpec({ step: "listener-a", argv: ["sh", "-c", "echo listener-a"] });
        const [a] = await h.backend.submit([first]);
        const idA = a!.backendJobId;
        await after.until([idA], isTerminal, "first job to end (seen by the later listener)");
        expect(after.states.get(idA)).toMatchObject({ status: "succeeded", exitCode: 0 });
        expect(thrownFor).toContain(idA);
        // The backend goes on: the next job is submitted, reported to everyone, and collected.
        const second = h.makeSpec({ step: "listener-b", argv: ["sh", "-c", "echo listener-b; exit 4"] });
        const [b] = await h.backend.submit([second]);
        const idB = b!.backendJobId;
        await after.until([idB], isTerminal, "second job to end");
        await watcher.until([idB], isTerminal, "second job to end (seen by the suite's first listener)");
        expect(after.states.get(idB)).toMatchObject({ status: "failed", exitCode: 4 });
        expect(thrownFor).toContain(idB);
        await h.backend.collect(idB);
        expect(await readFile(join(second.attemptDir, STDOUT_FILE), "utf8")).toContain("listener-b");
      } finally {
        unsubscribeThrower();
        after.unsubscribe();
      }
    });
  });
}

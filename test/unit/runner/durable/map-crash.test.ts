/**
 * A map step across SIGKILLed controllers (local backend): a 24-element map, capped at 6 at a
 * time, whose controller is killed 4 times mid-map and resumed each time. At the end every
 * element ran exactly once (one line in its job-side marker), has one succeeded attempt and one
 * job id per attempt, none is lost, and the map and its reducer succeeded once.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRun } from "../../../../src/api/create-run.js";
import { Pipeline } from "../../../../src/api/pipeline.js";
import { range } from "../../../../src/pipeline/map-spec.js";
import { replayJournal } from "../../../../src/runner/replay.js";
import { FileStore } from "../../../../src/store/file-store.js";
import { localCluster, tempDir } from "../../helpers.js";
import { allMarkers, entriesOf, markerTask, sleep, spawnTsx } from "./durable-helpers.js";

const FIXTURE = "test/fixtures/durable-controller.ts";
const ELEMENTS = 24;

describe("fault injection: SIGKILLed controller in the middle of a map", () => {
  it(`every element of a ${ELEMENTS}-element map runs exactly once across 4 SIGKILLs`, { timeout: 120_000 }, async () => {
    const home = await tempDir("gpu-dag-map-crash-");
    const markers = join(home, "markers");
    await mkdir(markers);
    const store = new FileStore({ home });
    const task = markerTask(markers);
    await task.createTask({ store });
    const pipeline = new Pipeline({ projectName: "durable", pipelineName: "map-crash" })
      .addStep({ name: "gen", baseTaskId: task.id!, executionQueue: "cpu", map: { axes: { i: range(ELEMENTS) }, maxParallel: 6 }, parameterOverride: { step: "e${item.i}", secs: 0.25 } })
      .addStep({ name: "reduce", baseTaskId: task.id!, executionQueue: "cpu", parents: ["gen"], parameterOverride: { step: "reduce" } });
    const { runId } = await createRun(pipeline, { store, cluster: localCluster(), runId: "map-crash" });

    // Kill when this many elements have a marker (started jobs), so each kill lands mid-map.
    for (const [i, started] of [3, 8, 14, 19].entries()) {
      const child = spawnTsx([FIXTURE, home, runId, i === 0 ? "fresh" : "resume"]);
      let ended = false;
      void child.exited.then(() => (ended = true));
      while (!ended && (await allMarkers(markers)).size < started) await sleep(5);
      if (ended) throw new Error(`controller ${i + 1} ended before its kill: ${child.output()}`);
      child.kill("SIGKILL");
      expect((await child.exited).signal).toBe("SIGKILL");
    }
    const last = spawnTsx([FIXTURE, home, runId, "resume"]);
    const exit = await last.exited;
    expect(exit.code, last.output()).toBe(0);
    expect(last.output()).toContain('{"status":"succeeded"}');

    const entries = await store.readJournal(runId);
    const replay = replayJournal(entries);
    expect(replay.controllerStarts).toBe(5);
    const markerFiles = await allMarkers(markers);
    expect(markerFiles.size).toBe(ELEMENTS + 1);
    for (const [name, lines] of markerFiles) expect(lines, `marker of ${name}`).toHaveLength(1);
    const finished = entriesOf(entries, "attempt-finished");
    const submitted = entriesOf(entries, "job-submitted");
    for (let i = 0; i < ELEMENTS; i++) {
      const step = `gen[${i}]`;
      expect(replay.steps.get(step)?.status, step).toBe("succeeded");
      expect(
        finished.filter((e) => e.step === step && e.status === "succeeded"),
        step,
      ).toHaveLength(1);
      for (const other of finished.filter((e) => e.step === step && e.status !== "succeeded")) expect(other.status, `${step}: ${other.reason}`).toBe("lost");
      const ids = new Map<number, Set<string>>();
      for (const e of submitted.filter((e) => e.step === step)) ids.set(e.attempt, (ids.get(e.attempt) ?? new Set()).add(e.backendJobId));
      for (const [attempt, set] of ids) expect(set.size, `${step} attempt ${attempt} job ids`).toBe(1);
    }
    expect(replay.steps.get("gen")).toMatchObject({ status: "succeeded", elements: { total: ELEMENTS, succeeded: ELEMENTS, missing: [] } });
    expect(replay.steps.get("reduce")?.status).toBe("succeeded");
    await store.close();
  });
});

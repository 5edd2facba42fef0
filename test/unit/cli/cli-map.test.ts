/**
 * A map step from a pipeline file through the CLI: the dry run lists its elements, the run
 * folds them back, and `status` shows the map as one row with counts instead of one per element.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { gd, json, ROOT, tempHome } from "./cli-helpers.js";

const FILE = join(ROOT, "examples", "map-pipeline", "pipeline.yaml");

describe("map steps in the CLI", { timeout: 120_000 }, () => {
  let home: string;
  beforeAll(async () => {
    home = await tempHome();
  });

  it("dry run lists the elements; the run succeeds; status shows one row per map", async () => {
    const dry = await gd(home, ["run", FILE, "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("map generate: 6 elements (all must succeed, at most 4 at once), each a step below");
    expect(dry.stdout).toContain("generate[5] = generate[seed=1,chunk=2]");
    expect(dry.stdout).toContain("command:  sh -c");

    const run = await gd(home, ["run", FILE, "--json"]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const result = json<{ runId: string; metrics: Record<string, Record<string, number>> }>(run);
    // rows: chunks 0..2 give 10, 11, 12; two seeds.
    expect(result.metrics["summarize"]).toEqual({ rows: 66, chunks: 6 });

    const status = await gd(home, ["status", result.runId]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/generate\s+succeeded\s+cpu\s+6 elements: 6 succeeded/);
    expect(status.stdout).not.toContain("generate[3]");
    const doc = json<{ steps: Record<string, { status: string; elements?: unknown }> }>(await gd(home, ["status", result.runId, "--json"]));
    expect(doc.steps["generate[3]"]!.status).toBe("succeeded");
    expect(doc.steps["generate"]!.elements).toEqual({ total: 6, required: 6, succeeded: 6, missing: [] });
  });

  it("retry runs again only the element that failed; a second retry has nothing to do", async () => {
    const { mkdtemp, rm, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const marks = await mkdtemp(join(tmpdir(), "gpu-dag-retry-"));
    const file = join(marks, "pipeline.yaml");
    await writeFile(
      file,
      [
        "projectName: p",
        "pipelineName: retry",
        "defaults: { executionQueue: cpu }",
        "tasks:",
        "  part:",
        "    type: custom",
        `    options: { parameters: { n: 0 }, command: [sh, -c, 'echo x >> ${marks}/ran-{n}; test ! -f ${marks}/fail-{n}'] }`,
        "steps:",
        "  - { name: parts, baseTaskId: part, map: { items: [1, 2, 3], minSuccess: 0.5 }, parameterOverride: { n: '${item}' } }",
      ].join("\n"),
    );
    await writeFile(join(marks, "fail-2"), "");
    const first = await gd(home, ["run", file, "--json"]);
    expect(first.code, first.stderr).toBe(0); // 2 of 3 is enough
    const { runId } = json<{ runId: string }>(first);
    const status = await gd(home, ["status", runId]);
    expect(status.stdout).toMatch(/parts\s+succeeded\s+cpu\s+3 elements: 2 succeeded, 1 failed/);
    expect(status.stdout).toContain("parts[1]: failed");
    await rm(join(marks, "fail-2"));
    const retry = await gd(home, ["retry", runId]);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toContain(`retrying run ${runId}: 1 map element`);
    const after = await gd(home, ["status", runId]);
    expect(after.stdout).toMatch(/parts\s+succeeded\s+cpu\s+3 elements: 3 succeeded/);
    const { readFile } = await import("node:fs/promises");
    for (const [n, times] of [
      ["1", 1],
      ["2", 2],
      ["3", 1],
    ] as const)
      expect((await readFile(join(marks, `ran-${n}`), "utf8")).trim().split("\n"), n).toHaveLength(times);
    const nothing = await gd(home, ["retry", runId]);
    expect(nothing.stdout).toContain("nothing to retry");
  });
});

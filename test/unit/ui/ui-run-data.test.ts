/**
 * What the run and step pages get for a map pipeline: the map step as one DAG node with its
 * elements' counts (not one node per element), edges from placeholders, the step's elements,
 * and an element's own log.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUi, type UiServer } from "../../../src/ui/server.js";
import { gd, json, ROOT, tempHome } from "../cli/cli-helpers.js";

describe("gpu-dag ui: a map run", { timeout: 120_000 }, () => {
  let ui: UiServer;
  let runId: string;
  const get = async <T>(path: string) => {
    const answer = await fetch(`http://127.0.0.1:${ui.port}${path}`, { headers: { "x-gpu-dag-token": ui.token } });
    expect(answer.status, path).toBe(200);
    return (await answer.json()) as T;
  };

  beforeAll(async () => {
    const home = await tempHome("gpu-dag-ui-map-");
    const ran = await gd(home, ["run", join(ROOT, "examples", "map-pipeline", "pipeline.yaml"), "--json"]);
    expect(ran.code, ran.stderr).toBe(0);
    runId = json<{ runId: string }>(ran).runId;
    ui = await startUi({ home });
  });
  afterAll(() => ui?.close());

  it("shows a map step as one node with its elements' counts", async () => {
    const run = await get<{ status: string; nodes: Array<{ name: string; status: string; parents: string[]; elements?: { total: number; counts: Record<string, number> } }> }>(`/api/runs/${runId}`);
    expect(run.status).toBe("succeeded");
    expect(run.nodes.map((n) => n.name)).toEqual(["generate", "summarize"]);
    expect(run.nodes[0]).toMatchObject({ status: "succeeded", parents: [], elements: { total: 6, counts: { succeeded: 6 } } });
    expect(run.nodes[1]).toMatchObject({ status: "succeeded", parents: ["generate"] });
    expect(run.nodes[1]?.elements).toBeUndefined();
  });

  it("lists a map step's elements and serves an element's own log", async () => {
    const step = await get<{ elements: Array<{ step: string; label: string; status: string }> }>(`/api/runs/${runId}/steps/generate`);
    expect(step.elements.map((e) => e.step)).toEqual(["generate[0]", "generate[1]", "generate[2]", "generate[3]", "generate[4]", "generate[5]"]);
    expect(step.elements.every((e) => e.status === "succeeded")).toBe(true);
    const log = await get<{ text: string }>(`/api/runs/${runId}/log?step=${encodeURIComponent("generate[4]")}&attempt=1`);
    expect(log.text).toBe("seed 1, chunk 1\n");
  });
});

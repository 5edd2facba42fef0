/**
 * The dashboard's results endpoints over a real store, through real HTTP: the same numbers as the
 * results layer (`gpu-dag compare`, `report recovery`, `models`), the token on every one of them,
 * refs that name nothing answered 400 with the reason, markup in names sent as data, and a model
 * ref that cannot read outside the store.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareRefs } from "../../../src/results/compare.js";
import { listModelRows, modelLineage } from "../../../src/results/lineage.js";
import { recoveryReport } from "../../../src/results/recovery.js";
import { FileStore } from "../../../src/store/file-store.js";
import { startUi, type UiServer } from "../../../src/ui/server.js";
import { EXAMPLE, gd, tempHome } from "../cli/cli-helpers.js";
import { HOSTILE, type ResultsFixture, resultsFixture, SECRET_VALUE, TOKEN_VALUE } from "./results-fixture.js";

describe("gpu-dag ui: compare, recovery and models endpoints", { timeout: 120_000 }, () => {
  let home: string;
  let ui: UiServer;
  let made: ResultsFixture;
  let store: FileStore;
  const get = async (path: string, token = ui.token) => {
    const response = await fetch(`http://127.0.0.1:${ui.port}${path}`, { headers: { "x-gpu-dag-token": token } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    home = await tempHome("gpu-dag-ui-results-");
    made = await resultsFixture(home);
    store = new FileStore({ home });
    ui = await startUi({ home });
  });
  afterAll(async () => {
    await ui?.close();
    await store?.close();
  });

  it("needs the token on every results endpoint", async () => {
    for (const path of [`/api/compare?ref=${made.base}&ref=${made.candidate}`, `/api/recovery?baseline=${made.base}&candidate=${made.candidate}`, "/api/models", "/api/models/tiny-w4a16"]) {
      expect((await fetch(`http://127.0.0.1:${ui.port}${path}`)).status, path).toBe(401);
      expect((await get(path, "wrong")).status, path).toBe(401);
      expect((await get(path)).status, path).toBe(200);
    }
  });

  it("compares as `gpu-dag compare` does, with each run's series; markup in names stays data", async () => {
    const { status, body } = await get(`/api/compare?ref=base-model&ref=w4a16`);
    expect(status).toBe(200);
    const expected = await compareRefs(store, ["base-model", "w4a16"]);
    expect({ ...body, series: undefined }).toEqual(JSON.parse(JSON.stringify({ ...expected, series: undefined })));
    const acc = (body as unknown as typeof expected).metrics.find((m) => m.name === "arc/acc")!;
    expect(acc.values).toEqual([0.5, 0.48]);
    expect(acc.deltas[1]).toBeCloseTo(-0.02, 10);
    expect((body as unknown as typeof expected).params).toContainEqual({ name: "scheme", values: ["none", HOSTILE] });
    expect((body as unknown as typeof expected).metrics.map((m) => m.name)).toContain(HOSTILE);
    const series = body["series"] as Array<Array<{ metric: string; points: Array<{ value: number }> }>>;
    expect(series[1]!.find((s) => s.metric === "train/loss")!.points.map((p) => p.value)).toEqual([2.2, 1.7, 1.3, 1.25]);
  });

  it("answers the recovery report `gpu-dag report recovery` builds, and 400 for a ref that names nothing", async () => {
    const { status, body } = await get(`/api/recovery?baseline=base-model&candidate=w4a16`);
    expect(status).toBe(200);
    expect(body).toEqual(JSON.parse(JSON.stringify(await recoveryReport(store, { baseline: ["base-model"], candidates: [["w4a16"]] }))));
    const rows = (body as { sections: Array<{ rows: Array<{ benchmark: string; candidates: Array<{ recovery: number | null }> }> }> }).sections.flatMap((s) => s.rows);
    expect(rows.find((r) => r.benchmark === "arc")!.candidates[0]!.recovery).toBe(96);
    const missing = await get(`/api/recovery?baseline=no-such-run&candidate=w4a16`);
    expect(missing.status).toBe(400);
    expect(String(missing.body["error"])).toContain("no-such-run");
    expect((await get(`/api/recovery?baseline=base-model`)).status).toBe(400);
    expect((await get(`/api/compare?ref=base-model`)).status).toBe(400);
  });

  it("lists the runs, and a run started since (the list is kept only while the index is unchanged)", async () => {
    const before = await get("/api/runs");
    expect(before.body["total"]).toBe(3);
    expect((await get("/api/runs")).body).toEqual(before.body);
    const ran = await gd(home, ["run", `${EXAMPLE}/pipeline.yaml`, "--json", "--name", "later-run"]);
    expect(ran.code, ran.stderr).toBe(0);
    const after = await get("/api/runs");
    expect(after.body["total"]).toBe(4);
    expect((after.body["runs"] as Array<{ summary: { name?: string }; state: string }>)[0]).toMatchObject({ summary: { name: "later-run" }, state: "succeeded" });
  });

  it("filters, sorts and adds metric columns over every run, as `gpu-dag runs` does; a bad filter is a 400 naming it", async () => {
    type Rows = { runs: Array<{ summary: { name?: string }; metrics: Record<string, number> }>; matched: number; total: number };
    const rows = async (query: string) => (await get(`/api/runs?${query}`)).body as unknown as Rows;
    const names = (r: Rows) => r.runs.map((x) => x.summary.name);
    const byParam = await rows("where=scheme%3Dnone&metric=arc/acc");
    expect(names(byParam)).toEqual(["base-model"]);
    expect(byParam.runs[0]!.metrics).toEqual({ "arc/acc": 0.5 });
    expect(byParam.matched).toBe(1);
    const sorted = await rows(`where=${encodeURIComponent("arc/acc>0")}&sort=-metric.arc/acc`);
    // arc/acc: base-model 0.5, w4a16 0.48, the compress → eval run 0.47; the example run has none.
    expect(names(sorted)).toEqual(["base-model", "w4a16", "compressed"]);
    expect(names(await rows(`where=${encodeURIComponent("arc/acc>0")}&sort=metric.arc/acc`))).toEqual(["compressed", "w4a16", "base-model"]);
    expect(names(await rows("q=W4A1"))).toEqual(["w4a16"]);
    const bad = await get("/api/runs?where=scheme");
    expect(bad.status).toBe(400);
    expect(String(bad.body["error"])).toContain('--where "scheme": expected key=value');
  });

  it("gives a step's command line, its environment with secret values as ***, and secret names only", async () => {
    const { status, body } = await get(`/api/runs/${made.compressed}/steps/compress`);
    expect(status).toBe(200);
    const [attempt] = body["attempts"] as Array<{ commandLine: string; env: Record<string, string>; secretEnv: string[]; parameters: Record<string, unknown> }>;
    expect(attempt!.commandLine).toMatch(/^sh -c 'mkdir -p out/);
    expect(attempt!.env).toEqual({ PLAIN_VAR: "visible", API_TOKEN: "***" });
    expect(attempt!.secretEnv).toEqual(["GD_UI_TEST_SECRET"]);
    expect(attempt!.parameters["env"]).toBeUndefined();
    expect(JSON.stringify(body)).not.toContain(TOKEN_VALUE);
    expect(JSON.stringify(body)).not.toContain(SECRET_VALUE);
  });

  it("lists the registry and a model's lineage as `gpu-dag models` does; refs never read files", async () => {
    const list = await get("/api/models");
    expect(list.body).toEqual(JSON.parse(JSON.stringify({ models: await listModelRows(store) })));
    const [tiny] = list.body["models"] as Array<{ model: { id: string; name: string }; evaluations: number }>;
    expect(tiny!.model.name).toBe("tiny-w4a16");
    expect(tiny!.evaluations).toBe(1);
    const lineage = await get(`/api/models/${encodeURIComponent(tiny!.model.id)}`);
    expect(lineage.body).toEqual(JSON.parse(JSON.stringify(await modelLineage(store, tiny!.model.id))));
    expect((lineage.body as { evaluations: Array<{ step: string }> }).evaluations.map((e) => e.step)).toEqual(["eval"]);
    for (const ref of ["../../etc/passwd", "..%2F..%2Frun.json", "/etc/passwd"]) {
      const answer = await get(`/api/models/${ref.startsWith("/") ? encodeURIComponent(ref) : ref}`);
      expect([400, 404], ref).toContain(answer.status);
      expect(JSON.stringify(answer.body)).not.toContain("root:");
    }
  });
});

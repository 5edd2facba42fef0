/**
 * The dashboard's server over a real store, through real HTTP: the token on every request (401
 * without it or with a wrong one), POST actions refused cross-site (no token header, a foreign
 * Origin), logs and run paths that cannot leave the store, job strings sent as data.
 */
import { mkdir, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUi, type UiServer } from "../../../src/ui/server.js";
import { gd, json, tempHome } from "../cli/cli-helpers.js";
import { hostilePipeline } from "./hostile-pipeline.js";

describe("gpu-dag ui: security", { timeout: 120_000 }, () => {
  let home: string;
  let ui: UiServer;
  let runId: string;
  const step = "noisy";
  let base: string;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });
  const withToken = (path: string) => `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(ui.token)}`;

  beforeAll(async () => {
    home = await tempHome("gpu-dag-ui-");
    const ran = await gd(home, ["run", await hostilePipeline(home), "--json"]);
    expect(ran.code, ran.stderr).toBe(0);
    runId = json<{ runId: string }>(ran).runId;
    ui = await startUi({ home });
    base = `http://127.0.0.1:${ui.port}`;
  });
  afterAll(() => ui?.close());

  it("binds 127.0.0.1 by default and prints a URL carrying a random token", async () => {
    expect(ui.url).toBe(`http://127.0.0.1:${ui.port}/?token=${ui.token}`);
    expect(ui.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const other = await startUi({ home });
    try {
      expect(other.token).not.toBe(ui.token);
    } finally {
      await other.close();
    }
  });

  it("answers 401 to every request without the token or with a wrong one", async () => {
    for (const path of ["/", "/app.js", "/app.css", "/api/runs", `/api/runs/${runId}`, `/api/runs/${runId}/events`, `/api/runs/${runId}/log?step=x`, "/nothing"]) {
      expect((await get(path)).status, path).toBe(401);
      expect((await get(`${path}${path.includes("?") ? "&" : "?"}token=wrong`)).status, path).toBe(401);
      expect((await get(path, { "x-gpu-dag-token": `${ui.token}x` })).status, path).toBe(401);
    }
    expect((await get(withToken("/api/runs"))).status).toBe(200);
    expect((await get("/api/runs", { "x-gpu-dag-token": ui.token })).status).toBe(200);
    const page = await (await get(withToken("/"))).text();
    expect(page).toContain(`/app.js?token=${ui.token}`);
  });

  it("refuses POST actions without the token header, with the token only in the query, or from another origin", async () => {
    const action = `${base}/api/runs/${runId}/cancel`;
    expect((await fetch(action, { method: "POST" })).status).toBe(401);
    expect((await fetch(`${action}?token=${ui.token}`, { method: "POST" })).status).toBe(401);
    const foreign = await fetch(action, { method: "POST", headers: { "x-gpu-dag-token": ui.token, origin: "http://evil.example" } });
    expect(foreign.status).toBe(403);
    // A form post from another site: no custom header can be set, so no token.
    const form = await fetch(action, { method: "POST", headers: { origin: "http://evil.example", "content-type": "application/x-www-form-urlencoded" }, body: `token=${ui.token}` });
    expect(form.status).toBe(401);
    // The same origin with the header is let through (the run is finished: nothing to cancel, exit 0).
    const own = await fetch(action, { method: "POST", headers: { "x-gpu-dag-token": ui.token, origin: base } });
    expect(own.status, await own.clone().text()).toBe(200);
    expect(((await own.json()) as { stdout: string }).stdout).toContain("already succeeded");
  });

  it("reads logs only of the run's own steps, inside the store (traversal refused)", async () => {
    const log = (query: string) => get(withToken(`/api/runs/${runId}/log?${query}`));
    const ok = (await (await log(`step=${encodeURIComponent(step)}&attempt=1`)).json()) as { text: string };
    expect(ok.text).toContain("<script>window.__pwned=1</script>");
    for (const query of [
      "step=../../../../etc&attempt=1",
      `step=${encodeURIComponent("../../run.json")}&attempt=1`,
      `step=${encodeURIComponent(step)}&attempt=1&stream=../../../run`,
      `step=${encodeURIComponent(step)}&attempt=1&stream=${encodeURIComponent("/etc/passwd")}`,
      `step=${encodeURIComponent(step)}&attempt=-1`,
      `step=${encodeURIComponent(step)}&attempt=${encodeURIComponent("1/../../..")}`,
      `step=${encodeURIComponent(step)}&attempt=1&offset=-5`,
    ]) {
      const answer = await log(query);
      expect(answer.status, query).toBe(404);
      expect(await answer.text(), query).not.toContain("root:");
    }
    for (const path of [`/api/runs/..%2F..%2Fetc/log?step=x`, `/api/runs/${encodeURIComponent("../../etc")}`, "/api/runs/%2Fetc%2Fpasswd", "/../../etc/passwd", "/api/runs/../../../etc/passwd"]) {
      const answer = await get(withToken(path));
      expect([400, 404], path).toContain(answer.status);
      expect(await answer.text(), path).not.toContain("root:");
    }
  });

  it("does not follow a link in an attempt directory out of the store", async () => {
    const attempt = join(home, "runs", runId, "steps", encodeURIComponent(step), "attempt-1");
    const dirs = [attempt, join(home, "runs", runId, "steps", step, "attempt-1")];
    let linked = false;
    for (const dir of dirs) {
      await mkdir(dir, { recursive: true }).catch(() => undefined);
      await rm(join(dir, "stderr.log"), { force: true });
      await symlink("/etc/passwd", join(dir, "stderr.log")).then(
        () => (linked = true),
        () => undefined,
      );
    }
    expect(linked).toBe(true);
    const answer = await get(withToken(`/api/runs/${runId}/log?step=${encodeURIComponent(step)}&attempt=1&stream=stderr`));
    expect(answer.status).toBe(404);
    expect(await answer.text()).not.toContain("root:");
  });

  it("sends job strings as JSON data, never as markup, with nosniff and a strict CSP", async () => {
    const answer = await get(withToken(`/api/runs/${runId}`));
    expect(answer.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
    expect(answer.headers.get("content-security-policy")).toContain("script-src 'self'");
    const run = (await answer.json()) as { nodes: Array<{ name: string; status: string }> };
    expect(run.nodes).toEqual([expect.objectContaining({ name: step, status: "succeeded" })]);
  });
});

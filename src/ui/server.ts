/**
 * `gpu-dag ui`: the dashboard over a store — Node's own HTTP server, bound to 127.0.0.1 unless
 * told otherwise, every request checked against the access token ({@link refusal}).
 *
 * Routes: `/` (the page), `/app.js`, `/app.css`, `GET /api/runs`, `GET /api/runs/<run>`,
 * `GET /api/runs/<run>/events` (server-sent events: the run again each time its journal grows),
 * `GET /api/runs/<run>/steps/<step>`, `GET /api/runs/<run>/log?step=&attempt=&stream=&offset=`,
 * `POST /api/runs/<run>/{cancel,resume,retry}`; and the results routes of `results-api.ts`
 * (`/api/compare`, `/api/recovery`, `/api/models[/<ref>]`).
 *
 * @module
 */
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { FileStore } from "../store/file-store.js";
import { ACTIONS, runAction, type UiAction } from "./actions.js";
import { appScript, pageShell } from "./assets.js";
import { newToken, refusal } from "./auth.js";
import { APP_CSS } from "./client/style.js";
import { readJobScripts } from "./job-scripts.js";
import { readLog } from "./logs.js";
import { resultsRoute } from "./results-api.js";
import { isStepOf, uiRun, uiStep } from "./run-data.js";
import { runsListCache } from "./runs-cache.js";

/** Options of {@link startUi}. */
export interface UiOptions {
  /** Store directory. */
  home: string;
  /** Port (default 0: any free one). */
  port?: number;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Access token (default: a random one). */
  token?: string;
  /** How often open event streams look at their run's journal, ms (default 200). */
  pollMs?: number;
}

/** A started dashboard. */
export interface UiServer {
  /** The URL to open, token included. */
  url: string;
  token: string;
  port: number;
  /** Stops serving (open event streams are ended). */
  close(): Promise<void>;
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
};

/** Starts the dashboard; resolves once it listens. */
export async function startUi(options: UiOptions): Promise<UiServer> {
  const home = resolve(options.home);
  const token = options.token ?? newToken();
  const host = options.host ?? "127.0.0.1";
  const store = new FileStore({ home });
  const streams = new Set<ServerResponse>();
  const runsList = runsListCache(home);
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, { error: error instanceof Error ? error.message : String(error) });
      else response.end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://localhost");
    const refused = refusal(request, url, token);
    if (refused) return send(response, refused.status, { error: refused.message });
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (request.method === "GET" && url.pathname === "/") return text(response, 200, "text/html; charset=utf-8", pageShell(token));
    if (request.method === "GET" && url.pathname === "/app.js") return text(response, 200, "text/javascript; charset=utf-8", await appScript());
    if (request.method === "GET" && url.pathname === "/app.css") return text(response, 200, "text/css; charset=utf-8", APP_CSS);
    if (parts[0] === "api" && request.method === "GET") {
      const answer = await resultsRoute(store, parts, url);
      if (answer) return send(response, answer.status, answer.body);
    }
    if (parts[0] !== "api" || parts[1] !== "runs") return send(response, 404, { error: "not found" });
    if (parts.length === 2 && request.method === "GET") {
      const list = await runsList(url);
      return text(response, list.status, "application/json; charset=utf-8", list.body);
    }
    const runId = parts[2] ?? "";
    if (!RUN_ID.test(runId)) return send(response, 400, { error: "bad run id" });
    const exists = await stat(join(home, "runs", runId, "run.json")).catch(() => undefined);
    if (!exists) return send(response, 404, { error: `no run ${runId}` });
    if (request.method === "POST" && parts.length === 4 && (ACTIONS as readonly string[]).includes(parts[3]!)) {
      const done = await runAction(home, parts[3] as UiAction, runId);
      return send(response, done.code === 0 ? 200 : 409, { code: done.code, stdout: done.stdout, stderr: done.stderr });
    }
    if (request.method !== "GET") return send(response, 405, { error: "method not allowed" });
    if (parts.length === 3) return send(response, 200, await uiRun(store, runId));
    if (parts[3] === "events" && parts.length === 4) return events(response, runId);
    if (parts[3] === "steps" && parts.length === 5) {
      const step = await uiStep(store, runId, parts[4]!);
      if (!step) return send(response, 404, { error: "no such step" });
      // The Slurm scripts each attempt was submitted with, where the backend kept them.
      for (const attempt of step["attempts"] as Array<Record<string, unknown>>) {
        attempt["scripts"] = await readJobScripts(store, home, runId, parts[4]!, attempt["attempt"] as number);
      }
      return send(response, 200, step);
    }
    if (parts[3] === "log" && parts.length === 4) {
      const step = url.searchParams.get("step") ?? "";
      if (!(await isStepOf(store, runId, step))) return send(response, 404, { error: "no such step" });
      const slice = await readLog(store, home, runId, step, Number(url.searchParams.get("attempt") ?? "1"), url.searchParams.get("stream") ?? "stdout", Number(url.searchParams.get("offset") ?? "0"));
      return slice ? send(response, 200, slice) : send(response, 404, { error: "no such log" });
    }
    return send(response, 404, { error: "not found" });
  }

  /** Sends the run now and again whenever its journal changes, until the page goes. */
  async function events(response: ServerResponse, runId: string): Promise<void> {
    response.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    streams.add(response);
    const journal = join(home, "runs", runId, "journal.jsonl");
    let last = "";
    const push = async () => {
      const info = await stat(journal).catch(() => undefined);
      const mark = `${info?.size ?? 0}:${info?.mtimeMs ?? 0}`;
      if (mark === last) return;
      last = mark;
      response.write(`data: ${JSON.stringify(await uiRun(store, runId))}\n\n`);
    };
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      push()
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, options.pollMs ?? 200);
    response.on("close", () => {
      clearInterval(timer);
      streams.delete(response);
    });
    await push();
  }

  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 0, host, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/?token=${token}`,
    token,
    port,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of streams) s.end();
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

function text(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, "content-type": type, "cache-control": "no-store" });
  response.end(body);
}

function send(response: ServerResponse, status: number, body: unknown): void {
  text(response, status, "application/json; charset=utf-8", JSON.stringify(body));
}

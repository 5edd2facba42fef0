/**
 * Who may talk to the dashboard: every request carries the access token (query `token`, or the
 * `x-gpu-dag-token` header); a POST needs the header (a cross-site form cannot set one) and, when
 * the browser sends an `Origin`, the dashboard's own.
 *
 * @module
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** A fresh random access token (URL-safe). */
export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

/** Constant-time comparison of a presented token with the real one. */
function same(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Why a request is refused (`undefined`: allowed). */
export function refusal(request: IncomingMessage, url: URL, token: string): { status: number; message: string } | undefined {
  const header = request.headers["x-gpu-dag-token"];
  const fromHeader = typeof header === "string" ? header : undefined;
  if (request.method === "POST") {
    if (!same(fromHeader, token)) return { status: 401, message: "a POST needs the access token in the x-gpu-dag-token header" };
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${request.headers.host ?? ""}`) return { status: 403, message: "cross-site request refused" };
    return undefined;
  }
  if (same(fromHeader, token) || same(url.searchParams.get("token") ?? undefined, token)) return undefined;
  return { status: 401, message: "missing or wrong access token" };
}

/**
 * The page's calls to its server, each with the access token (taken from the page's URL).
 *
 * @module
 */

/** The access token the page was opened with. */
export const TOKEN = new URLSearchParams(location.search).get("token") ?? "";

/** GET a JSON document. */
export async function getJson<T>(path: string, query: Record<string, string | number> = {}): Promise<T> {
  const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  const response = await fetch(`${path}${params.size ? `?${params}` : ""}`, { headers: { "x-gpu-dag-token": TOKEN } });
  if (!response.ok) throw new Error(`${response.status} ${((await response.json().catch(() => ({}))) as { error?: string }).error ?? ""}`);
  return (await response.json()) as T;
}

/** POST an action; resolves with the server's answer. */
export async function post(path: string): Promise<{ ok: boolean; body: { stdout?: string; stderr?: string; error?: string } }> {
  const response = await fetch(path, { method: "POST", headers: { "x-gpu-dag-token": TOKEN } });
  return { ok: response.ok, body: (await response.json().catch(() => ({}))) as { stdout?: string } };
}

/** An event stream of a path (the token goes in the query: EventSource sends no headers). */
export function events(path: string): EventSource {
  return new EventSource(`${path}?token=${encodeURIComponent(TOKEN)}`);
}

/** The hash route of a page, token kept in the query. */
export function href(hash: string): string {
  return `?token=${encodeURIComponent(TOKEN)}#${hash}`;
}

/** The query part of the hash route (`#/compare?ref=a&ref=b`). */
export function hashQuery(hash: string): URLSearchParams {
  const at = hash.indexOf("?");
  return new URLSearchParams(at >= 0 ? hash.slice(at + 1) : "");
}

/** The hash route of a page with a query (`/compare`, `{ ref: ["a", "b"] }`). */
export function hrefWith(path: string, query: Record<string, readonly string[]>): string {
  const params = new URLSearchParams(Object.entries(query).flatMap(([k, vs]) => vs.map((v) => [k, v])));
  return href(`${path}${params.size ? `?${params}` : ""}`);
}

/**
 * Same-origin proxy to the todo service: `/api/<path>` -> `${API_URL}/<path>`.
 *
 * The browser only ever talks to this origin, so the service's HttpOnly `session`
 * cookie is stored for it and sent back without any CORS setup. Status codes,
 * JSON error bodies, `Set-Cookie` and `Retry-After` pass through unchanged: a
 * `503 database_busy` from the service reaches the page as exactly that.
 */
import { apiUrl } from "../../lib/config";

export const dynamic = "force-dynamic";

/** Request headers the service needs; everything else (host, hop-by-hop) stays here. */
const FORWARD_REQUEST = ["accept", "authorization", "content-type", "cookie", "user-agent"];
/** Response headers worth passing back; fetch already decoded the body, so no encoding/length. */
const FORWARD_RESPONSE = ["content-type", "retry-after", "cache-control", "www-authenticate"];

/** Long enough for any honest answer (the service gives up on a pool after 500 ms). */
const UPSTREAM_TIMEOUT_MS = 15_000;

async function forward(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const target = apiUrl() + url.pathname.replace(/^\/api/, "") + url.search;

  const headers = new Headers();
  for (const name of FORWARD_REQUEST) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const hasBody = request.method !== "GET" && request.method !== "HEAD";

  let upstream: Response;
  let body: ArrayBuffer | null;
  try {
    upstream = await fetch(target, {
      method: request.method,
      headers,
      body: hasBody ? await request.arrayBuffer() : undefined,
      redirect: "manual",
      cache: "no-store",
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
    body = upstream.status === 204 || upstream.status === 304 ? null : await upstream.arrayBuffer();
  } catch (err) {
    const timedOut = err instanceof Error && err.name === "TimeoutError";
    return Response.json(
      {
        error: timedOut ? "upstream_timeout" : "upstream_unreachable",
        message: timedOut
          ? `the todo service did not answer within ${UPSTREAM_TIMEOUT_MS / 1000} s`
          : "the todo service cannot be reached",
      },
      { status: timedOut ? 504 : 502 },
    );
  }

  const out = new Headers({ "cache-control": "no-store" });
  for (const name of FORWARD_RESPONSE) {
    const value = upstream.headers.get(name);
    if (value !== null) out.set(name, value);
  }
  for (const cookie of upstream.headers.getSetCookie()) out.append("set-cookie", cookie);
  return new Response(body, { status: upstream.status, headers: out });
}

export const GET = forward;
export const POST = forward;
export const PUT = forward;
export const PATCH = forward;
export const DELETE = forward;

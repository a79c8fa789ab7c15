/**
 * The browser's calls to the todo service (through the same-origin `/api` proxy),
 * and how a failure is put into words for the person looking at the page.
 */

export interface Todo {
  id: number;
  title: string;
  completed: boolean;
  created_at: string;
}

export interface ApiResult<T> {
  ok: boolean;
  /** HTTP status, or null when no answer arrived (network error, timeout). */
  status: number | null;
  data: T | null;
  /** Human-readable failure, e.g. "503 database busy: ...", or null on success. */
  error: string | null;
  /** Wall-clock duration as the page experienced it. */
  ms: number;
}

/**
 * "503 database busy: no database connection free within 500 ms" from a contract
 * error body `{"error":"database_busy","message":...}`; falls back to the status
 * text when the body is not the service's JSON.
 */
export function describeError(status: number | null, body: unknown, fallback = ""): string {
  if (status === null) return `no answer: ${fallback || "network error"}`;
  if (body && typeof body === "object" && "error" in body && typeof body.error === "string") {
    const message = "message" in body && typeof body.message === "string" ? body.message : "";
    const code = body.error.replace(/_/g, " ");
    return message ? `${status} ${code}: ${message}` : `${status} ${code}`;
  }
  return `${status} ${fallback || "request failed"}`.trim();
}

/** Calls `/api<path>` with JSON and never throws: failures come back as data. */
export async function callApi<T>(
  path: string,
  init: { method?: string; json?: unknown } = {},
  timeoutMs = 10_000,
): Promise<ApiResult<T>> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(`/api${path}`, {
      method: init.method ?? "GET",
      headers: init.json === undefined ? undefined : { "content-type": "application/json" },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
      cache: "no-store",
      credentials: "same-origin",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (response.ok) return { ok: true, status: response.status, data: body as T, error: null, ms: elapsed() };
    return {
      ok: false,
      status: response.status,
      data: null,
      error: describeError(response.status, body, response.statusText),
      ms: elapsed(),
    };
  } catch (err) {
    const reason =
      err instanceof Error && err.name === "TimeoutError" ? `timed out after ${timeoutMs / 1000} s` : String(err);
    return { ok: false, status: null, data: null, error: describeError(null, null, reason), ms: elapsed() };
  }
}

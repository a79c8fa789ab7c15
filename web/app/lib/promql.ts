/**
 * Instant queries against Prometheus's HTTP API (`GET /api/v1/query`), server side.
 *
 * The answer crosses into this code once, in `parseQueryResponse`, and comes out as typed
 * samples; a failure comes out as a `PrometheusError` saying which of three things went wrong,
 * so the dashboard route can tell the person whether Prometheus is down or slow or refused the
 * query.
 */

/** One series of an instant vector. `value` is null where Prometheus says NaN or ±Inf. */
export interface Sample {
  labels: Record<string, string>;
  value: number | null;
}

export type PrometheusErrorKind = "unreachable" | "timeout" | "failed";

export class PrometheusError extends Error {
  constructor(
    readonly kind: PrometheusErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "PrometheusError";
  }
}

/** Prometheus writes sample values as strings: "1.5", "NaN", "+Inf". */
function sampleValue(text: unknown): number | null {
  const n = typeof text === "string" ? Number(text) : NaN;
  return Number.isFinite(n) ? n : null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/**
 * Reads the JSON body of an instant query. A vector gives one sample per series; a scalar one
 * sample without labels. Anything else (an error body, a matrix, a native histogram sample) is
 * a `PrometheusError` of kind "failed" with Prometheus's own words when it sent some.
 */
export function parseQueryResponse(body: unknown): Sample[] {
  if (!isObject(body) || body.status !== "success") {
    const why = isObject(body) && typeof body.error === "string" ? body.error : "not a Prometheus API answer";
    throw new PrometheusError("failed", why);
  }
  const data = body.data;
  if (!isObject(data)) throw new PrometheusError("failed", "the answer has no data");
  if (data.resultType === "scalar" && Array.isArray(data.result)) {
    return [{ labels: {}, value: sampleValue(data.result[1]) }];
  }
  if (data.resultType !== "vector" || !Array.isArray(data.result)) {
    throw new PrometheusError("failed", `expected an instant vector, got ${String(data.resultType)}`);
  }
  return data.result.map((series: unknown) => {
    if (!isObject(series) || !isObject(series.metric) || !Array.isArray(series.value)) {
      throw new PrometheusError("failed", "a series without a float value (a native histogram?)");
    }
    return { labels: series.metric as Record<string, string>, value: sampleValue(series.value[1]) };
  });
}

/** Evaluates `expr` at unix time `timeSecs` (every query of one reading uses the same instant). */
export async function instantQuery(baseUrl: string, expr: string, timeSecs: number, timeoutMs: number): Promise<Sample[]> {
  const url = `${baseUrl}/api/v1/query?${new URLSearchParams({ query: expr, time: String(timeSecs) })}`;
  let response: Response;
  try {
    response = await fetch(url, { cache: "no-store", signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    if (err instanceof Error && err.name === "TimeoutError") {
      throw new PrometheusError("timeout", `Prometheus at ${baseUrl} did not answer within ${timeoutMs / 1000} s`);
    }
    throw new PrometheusError("unreachable", `Prometheus cannot be reached at ${baseUrl}`);
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    throw new PrometheusError("failed", `Prometheus at ${baseUrl} answered ${response.status} without JSON`);
  }
  return parseQueryResponse(body);
}

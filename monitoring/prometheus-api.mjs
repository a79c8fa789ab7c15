/**
 * The lab's one client of Prometheus's HTTP API: instant queries for the web UI's dashboard route
 * (web/app/dashboard/metrics/route.ts) and range queries for the dashboard checker
 * (check-dashboard.mjs), so the two cannot read an answer differently.
 *
 * An answer crosses into code here once and comes out typed: samples whose values are numbers or
 * null. Sample values follow one rule, Prometheus's own meaning of its spellings:
 *
 * - a decimal ("0.0125", "1e-05") is that number;
 * - "+Inf" and "-Inf" are `Infinity` and `-Infinity`: real values (a `histogram_quantile` above
 *   the highest bucket, a division by zero) that the caller decides how to show;
 * - "NaN" is `null`: no value at that moment (a rate or a quantile over no requests is 0/0);
 * - anything else is not an answer of Prometheus's and throws a `PrometheusError` ("failed").
 *
 * A failure is a `PrometheusError` saying which of three things went wrong (Prometheus cannot be
 * reached, did not answer in time, or answered with an error or something else than asked for),
 * with Prometheus's own words when it sent some, so a person hears why.
 *
 * Plain JavaScript with JSDoc types, like dashboard-queries.mjs: it runs as is under Node 20 and
 * is bundled by the web build with `allowJs`. Queries go out as POST forms, which Prometheus takes
 * for every query however long (Next.js caches no fetch unless asked to, `cache: "force-cache"`).
 *
 * @module
 */

/**
 * One series of an instant vector (or a scalar, without labels).
 * @typedef {object} Sample
 * @property {Record<string, string>} labels
 * @property {number | null} value By the rule above: null where Prometheus says NaN.
 */

/**
 * One series of a range query's answer.
 * @typedef {object} RangeSeries
 * @property {Record<string, string>} labels
 * @property {[number, number | null][]} points Float points, [unix seconds, value by the rule above].
 * @property {number} histogramPoints How many native-histogram points it has (k6's trends); their
 *   buckets are not read here.
 */

/**
 * The time range and resolution of a range query, in seconds.
 * @typedef {{ start: number, end: number, step: number }} Range
 */

/** @typedef {"unreachable" | "timeout" | "failed"} PrometheusErrorKind */

/** Why Prometheus gave no answer this code can use; `message` is fit to show a person. */
export class PrometheusError extends Error {
  /**
   * @param {PrometheusErrorKind} kind
   * @param {string} message
   * @param {ErrorOptions} [options] `cause`: the network's own error, for a developer's eyes.
   */
  constructor(kind, message, options) {
    super(message, options);
    this.name = "PrometheusError";
    /** @readonly */
    this.kind = kind;
  }
}

/** A decimal as Go writes a float (JavaScript's "Infinity" and "0x10" are not among them). */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A sample value as Prometheus writes it (a string), by the module's rule.
 * @param {unknown} text
 * @returns {number | null}
 */
export function sampleValue(text) {
  if (text === "NaN") return null;
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (typeof text !== "string" || !DECIMAL.test(text)) {
    throw new PrometheusError("failed", `${JSON.stringify(text) ?? String(text)} is not a sample value`);
  }
  return Number(text);
}

/**
 * @param {unknown} v
 * @returns {v is Record<string, unknown>}
 */
const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * @param {unknown} metric
 * @returns {Record<string, string>}
 */
function labelsOf(metric) {
  if (!isObject(metric)) throw new PrometheusError("failed", "a series without labels");
  return /** @type {Record<string, string>} */ (metric);
}

/**
 * The `data` of a successful answer; an error answer, or anything that is not an API answer,
 * throws "failed" with Prometheus's words when it sent some.
 * @param {unknown} body
 * @returns {{ resultType: unknown, result: unknown }}
 */
function dataOf(body) {
  if (!isObject(body) || body.status !== "success") {
    const why = isObject(body) && typeof body.error === "string" ? body.error : "not a Prometheus API answer";
    throw new PrometheusError("failed", why);
  }
  if (!isObject(body.data)) throw new PrometheusError("failed", "the answer has no data");
  return { resultType: body.data.resultType, result: body.data.result };
}

/**
 * Reads the JSON body of an instant query. A vector gives one sample per series, a scalar one
 * sample without labels; anything else (an error answer, a matrix, a native histogram sample)
 * throws "failed".
 * @param {unknown} body
 * @returns {Sample[]}
 */
export function parseInstant(body) {
  const { resultType, result } = dataOf(body);
  if (resultType === "scalar" && Array.isArray(result)) return [{ labels: {}, value: sampleValue(result[1]) }];
  if (resultType !== "vector" || !Array.isArray(result)) {
    throw new PrometheusError("failed", `expected an instant vector, got ${String(resultType)}`);
  }
  return result.map((series) => {
    if (!isObject(series) || !Array.isArray(series.value)) {
      throw new PrometheusError("failed", "a series without a float value (a native histogram?)");
    }
    return { labels: labelsOf(series.metric), value: sampleValue(series.value[1]) };
  });
}

/**
 * Reads the JSON body of a range query: a matrix, each series with float points, native-histogram
 * points or both; anything else throws "failed".
 * @param {unknown} body
 * @returns {RangeSeries[]}
 */
export function parseRange(body) {
  const { resultType, result } = dataOf(body);
  if (resultType !== "matrix" || !Array.isArray(result)) {
    throw new PrometheusError("failed", `expected a range vector, got ${String(resultType)}`);
  }
  return result.map((series) => {
    if (!isObject(series)) throw new PrometheusError("failed", "a series that is not an object");
    const values = series.values ?? [];
    const histograms = series.histograms ?? [];
    if (!Array.isArray(values) || !Array.isArray(histograms)) {
      throw new PrometheusError("failed", "a series whose points are not lists");
    }
    return {
      labels: labelsOf(series.metric),
      points: values.map((point) => {
        if (!Array.isArray(point)) throw new PrometheusError("failed", "a point that is not [time, value]");
        return /** @type {[number, number | null]} */ ([Number(point[0]), sampleValue(point[1])]);
      }),
      histogramPoints: histograms.length,
    };
  });
}

/**
 * The innermost error of a chain: fetch says "fetch failed" and keeps the reason in `cause`.
 * @param {unknown} err
 * @returns {unknown}
 */
const rootCause = (err) => (err instanceof Error && err.cause !== undefined ? rootCause(err.cause) : err);

/**
 * POSTs `params` to the API path `path` and returns the parsed JSON body, whatever its status:
 * Prometheus answers an error as JSON too (4xx, 5xx), and the parsers read it from there.
 * @param {string} baseUrl Without a trailing slash.
 * @param {string} path
 * @param {Record<string, string>} params
 * @param {number} timeoutMs
 * @returns {Promise<unknown>}
 */
async function post(baseUrl, path, params, timeoutMs) {
  let response;
  try {
    response = await fetch(`${baseUrl}${path}`, {
      method: "POST",
      body: new URLSearchParams(params),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    if (err instanceof Error && err.name === "TimeoutError") {
      throw new PrometheusError("timeout", `Prometheus at ${baseUrl} did not answer within ${timeoutMs / 1000} s`);
    }
    throw new PrometheusError("unreachable", `Prometheus cannot be reached at ${baseUrl}`, { cause: rootCause(err) });
  }
  try {
    return await response.json();
  } catch (err) {
    if (err instanceof Error && err.name === "TimeoutError") {
      throw new PrometheusError("timeout", `Prometheus at ${baseUrl} did not answer within ${timeoutMs / 1000} s`);
    }
    throw new PrometheusError("failed", `Prometheus at ${baseUrl} answered ${response.status} without JSON`);
  }
}

/**
 * Evaluates `expr` at unix time `timeSecs` (`/api/v1/query`).
 * @param {string} baseUrl
 * @param {string} expr
 * @param {number} timeSecs
 * @param {number} timeoutMs
 * @returns {Promise<Sample[]>}
 */
export async function instantQuery(baseUrl, expr, timeSecs, timeoutMs) {
  return parseInstant(await post(baseUrl, "/api/v1/query", { query: expr, time: String(timeSecs) }, timeoutMs));
}

/**
 * Evaluates `expr` over `range` (`/api/v1/query_range`).
 * @param {string} baseUrl
 * @param {string} expr
 * @param {Range} range
 * @param {number} timeoutMs
 * @returns {Promise<RangeSeries[]>}
 */
export async function rangeQuery(baseUrl, expr, range, timeoutMs) {
  const params = { query: expr, start: String(range.start), end: String(range.end), step: String(range.step) };
  return parseRange(await post(baseUrl, "/api/v1/query_range", params, timeoutMs));
}

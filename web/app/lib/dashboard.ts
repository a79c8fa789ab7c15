/**
 * What the live dashboard shows, read from Prometheus with the Grafana dashboard's queries.
 *
 * One reading is one set of instant queries evaluated at the same moment (lib/queries.ts, server
 * side): the `$__rate_interval` queries twice, over the last 5 s (the tables' left half and the
 * charts) and over the last minute, the gauges and totals once. `assemble` turns the answers into
 * a `Reading` (a few hundred bytes of JSON for the browser); it is pure and unit-tested.
 * Prometheus does all the maths (rates, counter resets, `histogram_quantile`); nothing here
 * re-derives it. The browser imports this module for its types and constants only.
 */
import shape from "../../../load/shape.json";
import type { Sample } from "../../../monitoring/prometheus-api.mjs";
import type { RefId } from "./panel-queries";

/**
 * The service's `endpoint` label values, in the order the dashboard shows them: load/shape.json's,
 * the one list k6 and the experiment runner read too (bundled at build time, as the Grafana
 * dashboard is in panel-queries.ts).
 */
export const ENDPOINTS: readonly string[] = shape.endpoints.map((e) => e.endpoint);

/** The window of the charts and of the tables' "now" columns. */
export const RATE_WINDOW_SECS = 5;
/** The window of the tables' right half. */
export const MINUTE_WINDOW_SECS = 60;

/** The queries that depend on the window, run once per window (lib/queries.ts). */
export const WINDOWED = ["p50", "p95", "rps", "errorShare"] as const satisfies readonly RefId[];
export type WindowedRefId = (typeof WINDOWED)[number];

/** The answers of one reading, per refId. */
export interface Answers {
  /** Every query, rates over RATE_WINDOW_SECS. */
  now: Record<RefId, Sample[]>;
  /** The windowed queries again, over MINUTE_WINDOW_SECS. */
  minute: Record<WindowedRefId, Sample[]>;
}

/** Per endpoint over one window; null where there is nothing to say (no requests, no latency). */
export interface WindowStats {
  p50Ms: number | null;
  p95Ms: number | null;
  /** Requests answered per second. */
  rps: number;
  /** Share of requests answered 5xx, 0..1; null without requests. */
  errorShare: number | null;
}

export interface EndpointReading {
  now: WindowStats;
  minute: WindowStats;
  requestsTotal: number;
  inFlight: number;
}

export interface PoolReading {
  inUse: number | null;
  idle: number | null;
  max: number | null;
  waiters: number | null;
  timeoutsPerSec: number | null;
  timeoutsTotal: number | null;
  /** Mean time a request held a connection over the last 5 s; null without acquisitions. */
  holdMs: number | null;
}

/** Everything the dashboard draws for one moment. */
export interface Reading {
  /** When the queries were evaluated, unix ms. */
  t: number;
  poolMode: string | null;
  version: string | null;
  endpoints: Record<string, EndpointReading>;
  pools: Record<string, PoolReading>;
  /** Process CPU as % of one core (can exceed 100 on several cores). */
  cpuPercent: number | null;
  memoryMiB: number | null;
  aliveTasks: number | null;
}

/** Why there is no reading of the service although Prometheus answered, or null if there is one. */
export interface ScrapeProblem {
  status: number;
  error: "metrics_not_scraped" | "metrics_unreachable";
  message: string;
}

/** Reads the `up` query: no series means Prometheus never scraped the target, 0 a failed scrape. */
export function scrapeProblem(up: Sample[], instance: string): ScrapeProblem | null {
  if (up.length === 0) {
    return {
      status: 503,
      error: "metrics_not_scraped",
      message: `Prometheus has not scraped the service at ${instance} (yet): scripts/prometheus.sh register todo-service ${instance}`,
    };
  }
  if (up.every((s) => s.value !== 1)) {
    return { status: 502, error: "metrics_unreachable", message: `Prometheus cannot scrape the service's metrics at ${instance}` };
  }
  return null;
}

/**
 * What a reading holds of a sample: its value if finite, else null (shown as "–"). A reading
 * crosses JSON to the browser, and JSON has no infinities; Prometheus's +Inf (a quantile above
 * the highest bucket) would turn into null there anyway, silently.
 */
const finite = (value: number | null | undefined) => (value != null && Number.isFinite(value) ? value : null);

/** Sample values by the value of `label`; samples without it are skipped. */
function byLabel(samples: Sample[], label: string): Map<string, number | null> {
  return new Map(samples.filter((s) => s.labels[label] !== undefined).map((s) => [s.labels[label], finite(s.value)]));
}

const first = (samples: Sample[]) => finite(samples[0]?.value);
const times = (value: number | null | undefined, factor: number) => (value == null ? null : value * factor);

function windowStats(answers: Record<WindowedRefId, Sample[]>): (endpoint: string) => WindowStats {
  const [p50, p95, rps, errorShare] = WINDOWED.map((refId) => byLabel(answers[refId], "endpoint"));
  return (endpoint) => ({
    p50Ms: times(p50.get(endpoint), 1000),
    p95Ms: times(p95.get(endpoint), 1000),
    rps: rps.get(endpoint) ?? 0,
    errorShare: errorShare.get(endpoint) ?? null,
  });
}

export function assemble(answers: Answers, t: number): Reading {
  const { now } = answers;
  const totals = byLabel(now.requestsTotal, "endpoint");
  const inFlight = byLabel(now.inFlight, "endpoint");
  const current = windowStats(now);
  const minute = windowStats(answers.minute);
  const endpoints: Record<string, EndpointReading> = {};
  // The contract's endpoints even before their first request; `other` only once it had one.
  for (const name of new Set([...ENDPOINTS, ...totals.keys()])) {
    const requestsTotal = totals.get(name) ?? 0;
    if (name === "other" && !requestsTotal) continue;
    endpoints[name] = { now: current(name), minute: minute(name), requestsTotal, inFlight: inFlight.get(name) ?? 0 };
  }

  const pool = (refId: RefId) => byLabel(now[refId], "pool");
  const [inUse, idle, max, waiters, timeoutsRate, timeoutsTotal, hold] = (
    ["inUse", "idle", "max", "waiters", "timeoutsRate", "timeoutsTotal", "holdMean"] as const
  ).map(pool);
  const pools: Record<string, PoolReading> = {};
  for (const name of new Set([...max.keys(), ...inUse.keys(), ...timeoutsTotal.keys()])) {
    pools[name] = {
      inUse: inUse.get(name) ?? null,
      idle: idle.get(name) ?? null,
      max: max.get(name) ?? null,
      waiters: waiters.get(name) ?? null,
      timeoutsPerSec: timeoutsRate.get(name) ?? null,
      timeoutsTotal: timeoutsTotal.get(name) ?? null,
      holdMs: times(hold.get(name), 1000),
    };
  }

  const info = now.info[0]?.labels;
  return {
    t,
    poolMode: info?.pool_mode ?? null,
    version: info?.version ?? null,
    endpoints,
    pools,
    cpuPercent: times(first(now.cpu), 100),
    memoryMiB: times(first(now.rss), 1 / 2 ** 20),
    aliveTasks: first(now.tasks),
  };
}

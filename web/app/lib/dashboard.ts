/**
 * What the dashboard shows, computed from scrapes of the service's /metrics.
 *
 * The server route turns each scrape into a small `Snapshot` (`summarize`); the
 * browser keeps the last minute of snapshots and turns any two of them into rates
 * and windowed quantiles (`derive`). Both steps are pure and unit-tested.
 */
import {
  type Bucket,
  type Sample,
  bucketIncrease,
  counterIncrease,
  histogramBy,
  histogramQuantile,
  single,
  sumBy,
} from "./prometheus";

/** The endpoints and pools the contract names, in the order the dashboard shows them. */
export const ENDPOINTS = ["login", "create_todo", "list_todos"] as const;
export const SHARED_POOLS = ["shared"] as const;
export const ISOLATED_POOLS = ["login", "todo_write", "todo_read"] as const;

export interface EndpointCounters {
  /** Cumulative latency buckets over all status classes. */
  buckets: Bucket[];
  requests: number;
  errors5xx: number;
  inFlight: number;
}

export interface PoolGauges {
  max: number | null;
  inUse: number | null;
  idle: number | null;
  waiters: number | null;
  timeoutsTotal: number;
}

/** One scrape, reduced to what the dashboard needs (a few hundred bytes of JSON). */
export interface Snapshot {
  /** Scrape time, unix ms (taken by the server that scraped). */
  t: number;
  poolMode: string | null;
  version: string | null;
  endpoints: Record<string, EndpointCounters>;
  pools: Record<string, PoolGauges>;
  cpuSecondsTotal: number | null;
  residentBytes: number | null;
  aliveTasks: number | null;
}

export function summarize(samples: Sample[], t: number): Snapshot {
  const info = samples.find((s) => s.name === "todo_service_info");
  const latency = histogramBy(samples, "http_request_duration_seconds", "endpoint");
  const requests = sumBy(samples, "http_requests_total", "endpoint");
  const errors = sumBy(samples, "http_requests_total", "endpoint", { status_class: "5xx" });
  const inFlight = sumBy(samples, "http_requests_in_flight", "endpoint");

  const endpoints: Record<string, EndpointCounters> = {};
  for (const name of new Set([...ENDPOINTS, ...latency.keys(), ...requests.keys()])) {
    if (name === "other" && !requests.get(name)) continue;
    endpoints[name] = {
      buckets: latency.get(name) ?? [],
      requests: requests.get(name) ?? 0,
      errors5xx: errors.get(name) ?? 0,
      inFlight: inFlight.get(name) ?? 0,
    };
  }

  const gauge = (name: string) => sumBy(samples, name, "pool");
  const max = gauge("db_pool_max_connections");
  const inUse = gauge("db_pool_connections_in_use");
  const idle = gauge("db_pool_connections_idle");
  const waiters = gauge("db_pool_waiters");
  const timeouts = gauge("db_pool_acquire_timeouts_total");
  const pools: Record<string, PoolGauges> = {};
  for (const pool of new Set([...max.keys(), ...inUse.keys(), ...timeouts.keys()])) {
    pools[pool] = {
      max: max.get(pool) ?? null,
      inUse: inUse.get(pool) ?? null,
      idle: idle.get(pool) ?? null,
      waiters: waiters.get(pool) ?? null,
      timeoutsTotal: timeouts.get(pool) ?? 0,
    };
  }

  return {
    t,
    poolMode: info?.labels.pool_mode ?? null,
    version: info?.labels.version ?? null,
    endpoints,
    pools,
    cpuSecondsTotal: single(samples, "process_cpu_seconds_total"),
    residentBytes: single(samples, "process_resident_memory_bytes"),
    aliveTasks: single(samples, "tokio_alive_tasks"),
  };
}

export interface EndpointStats {
  p50Ms: number | null;
  p95Ms: number | null;
  /** Requests per second over the window. */
  rps: number;
  /** Share of requests answered 5xx, 0..1; null without requests. */
  errorRate: number | null;
  requestsTotal: number;
  inFlight: number;
}

export interface PoolStats extends PoolGauges {
  timeoutsPerSec: number;
}

/** Everything the dashboard draws for one window (from `prev` to `cur`). */
export interface Point {
  t: number;
  windowSecs: number;
  endpoints: Record<string, EndpointStats>;
  pools: Record<string, PoolStats>;
  /** Process CPU as % of one core (can exceed 100 on several cores). */
  cpuPercent: number | null;
  memoryMiB: number | null;
  aliveTasks: number | null;
}

const toMs = (seconds: number | null) => (seconds === null ? null : seconds * 1000);

/**
 * Rates and quantiles over the window between two snapshots, the way
 * `histogram_quantile(q, rate(x_bucket[w]))` and `rate(x_total[w])` read it.
 * Gauges are taken from `cur`.
 */
export function derive(prev: Snapshot, cur: Snapshot): Point {
  const windowSecs = Math.max((cur.t - prev.t) / 1000, 1e-3);
  const endpoints: Record<string, EndpointStats> = {};
  for (const [name, now] of Object.entries(cur.endpoints)) {
    const before = prev.endpoints[name];
    const increase = bucketIncrease(before?.buckets, now.buckets);
    const requests = counterIncrease(before?.requests ?? 0, now.requests);
    const errors = counterIncrease(before?.errors5xx ?? 0, now.errors5xx);
    endpoints[name] = {
      p50Ms: toMs(histogramQuantile(0.5, increase)),
      p95Ms: toMs(histogramQuantile(0.95, increase)),
      rps: requests / windowSecs,
      errorRate: requests > 0 ? errors / requests : null,
      requestsTotal: now.requests,
      inFlight: now.inFlight,
    };
  }
  const pools: Record<string, PoolStats> = {};
  for (const [name, now] of Object.entries(cur.pools)) {
    const before = prev.pools[name]?.timeoutsTotal ?? 0;
    pools[name] = { ...now, timeoutsPerSec: counterIncrease(before, now.timeoutsTotal) / windowSecs };
  }
  const cpu =
    prev.cpuSecondsTotal !== null && cur.cpuSecondsTotal !== null
      ? (counterIncrease(prev.cpuSecondsTotal, cur.cpuSecondsTotal) / windowSecs) * 100
      : null;
  return {
    t: cur.t,
    windowSecs,
    endpoints,
    pools,
    cpuPercent: cpu,
    memoryMiB: cur.residentBytes === null ? null : cur.residentBytes / (1024 * 1024),
    aliveTasks: cur.aliveTasks,
  };
}

/**
 * The snapshot to compare `latest` with for a window of about `windowMs`: the newest
 * one at least `windowMs` older, or else the oldest we have. Null if there is none
 * older than `latest`. `history` is sorted oldest first.
 */
export function baseline(history: Snapshot[], latest: Snapshot, windowMs: number): Snapshot | null {
  let chosen: Snapshot | null = null;
  for (const s of history) {
    if (s.t >= latest.t) break;
    if (chosen === null || latest.t - s.t >= windowMs) chosen = s;
  }
  return chosen;
}

/**
 * Reads a `Snapshot` sent as JSON. JSON has no Infinity, so the +Inf bucket's bound
 * travels as `null`; it is restored here (without it every quantile would be empty).
 */
export function parseSnapshot(text: string): Snapshot {
  return JSON.parse(text, (key, value) => (key === "le" && value === null ? Infinity : value)) as Snapshot;
}

import { describe, expect, it } from "vitest";
import { baseline, derive, parseSnapshot, type Snapshot, summarize } from "./dashboard";
import { parsePrometheusText } from "./prometheus";

const BOUNDS = ["0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];

/** A /metrics page as the service would print it (shared mode). */
function exposition(o: { fast: number; slow: number; errors: number; cpu: number; timeouts: number }): string {
  const lines = [
    "# TYPE http_request_duration_seconds histogram",
    ...BOUNDS.map((le) => {
      const count = o.fast + (Number(le) >= 0.5 || le === "+Inf" ? o.slow : 0);
      return `http_request_duration_seconds_bucket{endpoint="list_todos",status_class="2xx",le="${le}"} ${count}`;
    }),
    ...BOUNDS.map(
      (le) =>
        `http_request_duration_seconds_bucket{endpoint="list_todos",status_class="5xx",le="${le}"} ${Number(le) >= 0.5 || le === "+Inf" ? o.errors : 0}`,
    ),
    `http_requests_total{endpoint="list_todos",status_class="2xx"} ${o.fast + o.slow}`,
    `http_requests_total{endpoint="list_todos",status_class="5xx"} ${o.errors}`,
    'http_requests_in_flight{endpoint="list_todos"} 2',
    'db_pool_max_connections{pool="shared"} 12',
    'db_pool_connections_in_use{pool="shared"} 12',
    'db_pool_connections_idle{pool="shared"} 0',
    'db_pool_waiters{pool="shared"} 9',
    `db_pool_acquire_timeouts_total{pool="shared"} ${o.timeouts}`,
    "tokio_alive_tasks 42",
    `process_cpu_seconds_total ${o.cpu}`,
    "process_resident_memory_bytes 20971520",
    'todo_service_info{pool_mode="shared",version="0.1.0"} 1',
  ];
  return lines.join("\n");
}

const snap = (t: number, o: Parameters<typeof exposition>[0]) => summarize(parsePrometheusText(exposition(o)), t);

describe("summarize", () => {
  it("keeps what the dashboard needs from one scrape", () => {
    const s = snap(1000, { fast: 10, slow: 0, errors: 1, cpu: 2, timeouts: 0 });
    expect(s.poolMode).toBe("shared");
    expect(s.version).toBe("0.1.0");
    expect(s.endpoints.list_todos.requests).toBe(11);
    expect(s.endpoints.list_todos.errors5xx).toBe(1);
    expect(s.endpoints.list_todos.buckets.at(-1)).toEqual({ le: Infinity, count: 11 });
    // Endpoints the contract names are present even before their first request.
    expect(s.endpoints.login.requests).toBe(0);
    expect(s.pools.shared).toEqual({ max: 12, inUse: 12, idle: 0, waiters: 9, timeoutsTotal: 0 });
    expect(s.aliveTasks).toBe(42);
  });

  it("survives an empty or foreign scrape", () => {
    const s = summarize([], 5);
    expect(s.poolMode).toBeNull();
    expect(Object.keys(s.pools)).toEqual([]);
    expect(s.cpuSecondsTotal).toBeNull();
  });
});

describe("parseSnapshot", () => {
  it("restores the +Inf bucket bound that JSON turns into null", () => {
    const a = snap(0, { fast: 3, slow: 1, errors: 0, cpu: 1, timeouts: 0 });
    const wire = JSON.stringify(a);
    expect(wire).toContain('"le":null');
    const back = parseSnapshot(wire);
    expect(back).toEqual(a);
    const b = snap(1000, { fast: 3, slow: 2, errors: 0, cpu: 1, timeouts: 0 });
    expect(derive(back, parseSnapshot(JSON.stringify(b))).endpoints.list_todos.p50Ms).toBeCloseTo(375);
  });
});

describe("derive", () => {
  it("computes rates, error share and windowed quantiles between two scrapes", () => {
    const a = snap(10_000, { fast: 100, slow: 0, errors: 0, cpu: 1.0, timeouts: 3 });
    const b = snap(15_000, { fast: 100, slow: 8, errors: 2, cpu: 1.5, timeouts: 5 });
    const p = derive(a, b);
    expect(p.windowSecs).toBe(5);
    const e = p.endpoints.list_todos;
    expect(e.rps).toBeCloseTo(2); // 10 requests in 5 s
    expect(e.errorRate).toBeCloseTo(0.2);
    // All 10 requests of the window took between 250 and 500 ms.
    expect(e.p50Ms).toBeCloseTo(375);
    expect(e.p95Ms).toBeCloseTo(250 + 250 * 0.95);
    expect(e.requestsTotal).toBe(110);
    expect(p.cpuPercent).toBeCloseTo(10);
    expect(p.memoryMiB).toBe(20);
    expect(p.pools.shared.timeoutsPerSec).toBeCloseTo(0.4);
  });

  it("shows no latency and no error rate for an endpoint without requests", () => {
    const a = snap(0, { fast: 5, slow: 0, errors: 0, cpu: 1, timeouts: 0 });
    const p = derive(a, { ...a, t: 1000 });
    expect(p.endpoints.list_todos.p95Ms).toBeNull();
    expect(p.endpoints.list_todos.errorRate).toBeNull();
    expect(p.endpoints.list_todos.rps).toBe(0);
  });
});

describe("baseline", () => {
  const at = (t: number) => ({ t }) as Snapshot;
  const history = [at(0), at(1000), at(2000), at(3000), at(4000)];

  it("picks the newest snapshot at least a window older", () => {
    expect(baseline(history, at(4000), 2000)?.t).toBe(2000);
  });
  it("falls back to the oldest one while history is short", () => {
    expect(baseline(history, at(4000), 60_000)?.t).toBe(0);
  });
  it("has none when nothing is older", () => {
    expect(baseline([at(4000)], at(4000), 1000)).toBeNull();
  });
});

"use client";

/**
 * The live dashboard: scrapes /dashboard/metrics every second, keeps a minute of
 * snapshots, and shows per-endpoint latency quantiles, throughput and 5xx share,
 * per-pool connection use, and the service process. Chart points use a 5 s window
 * (like `rate(x[5s])`); the tables show the newest 5 s and the whole minute.
 */
import { useEffect, useMemo, useState } from "react";
import { describeError } from "../../lib/api";
import { ENDPOINTS, type Point, type Snapshot, baseline, derive, parseSnapshot } from "../../lib/dashboard";
import { type Row, type Series, TimeChart } from "./time-chart";

const SCRAPE_EVERY_MS = 1000;
const RATE_WINDOW_MS = 5000;
const VIEW_MS = 60_000;

/** One colour per endpoint, and the same for the pool that serves it in isolated mode. */
const COLORS: Record<string, string> = {
  login: "#d9480f",
  create_todo: "#7048e8",
  todo_write: "#7048e8",
  list_todos: "#1c7ed6",
  todo_read: "#1c7ed6",
  shared: "#2b8a3e",
  other: "#868e96",
};
const color = (name: string) => COLORS[name] ?? "#495057";

interface State {
  history: Snapshot[];
  points: Point[];
  error: string | null;
  lastOk: number | null;
}

const fmt = (v: number | null | undefined, digits = 1) =>
  v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits);
const pct = (v: number | null | undefined) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`);
const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour12: false });

function addSnapshot(state: State, snap: Snapshot): State {
  const history = [...state.history, snap].filter((s) => snap.t - s.t <= VIEW_MS + RATE_WINDOW_MS);
  const base = baseline(history, snap, RATE_WINDOW_MS);
  const points = base ? [...state.points, derive(base, snap)] : state.points;
  return { history, points: points.filter((p) => snap.t - p.t <= VIEW_MS), error: null, lastOk: snap.t };
}

export function Dashboard() {
  const [state, setState] = useState<State>({ history: [], points: [], error: null, lastOk: null });

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const scrape = async () => {
      try {
        const response = await fetch("/dashboard/metrics", { cache: "no-store", signal: AbortSignal.timeout(5000) });
        const text = await response.text();
        if (stopped) return;
        if (response.ok) {
          const snapshot = parseSnapshot(text);
          setState((s) => addSnapshot(s, snapshot));
        } else {
          let body: unknown = null;
          try {
            body = JSON.parse(text);
          } catch {}
          setState((s) => ({ ...s, error: describeError(response.status, body, response.statusText) }));
        }
      } catch (err) {
        if (!stopped) setState((s) => ({ ...s, error: describeError(null, null, String(err)) }));
      }
      if (!stopped) timer = setTimeout(scrape, SCRAPE_EVERY_MS);
    };
    void scrape();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);

  const latest = state.history.at(-1) ?? null;
  const now = state.points.at(-1) ?? null;
  const minute = useMemo(() => {
    if (!latest) return null;
    const first = state.history[0];
    return first && first.t < latest.t ? derive(first, latest) : null;
  }, [state.history, latest]);

  const endpoints = latest ? Object.keys(latest.endpoints) : [...ENDPOINTS];
  const pools = latest ? Object.keys(latest.pools) : [];
  const rows = (pick: (p: Point) => Record<string, number | null>): Row[] =>
    state.points.map((p) => ({ x: Math.round((p.t - (latest?.t ?? p.t)) / 100) / 10, ...pick(p) }));
  const perEndpoint = (f: (p: Point, e: string) => number | null) =>
    rows((p) => Object.fromEntries(endpoints.map((e) => [e, p.endpoints[e] ? f(p, e) : null])));
  const perPool = (f: (p: Point, pool: string) => number | null) =>
    rows((p) => Object.fromEntries(pools.map((name) => [name, p.pools[name] ? f(p, name) : null])));
  const endpointSeries: Series[] = endpoints.map((e) => ({ key: e, name: e, color: color(e) }));
  const poolSeries: Series[] = pools.map((name) => ({ key: name, name, color: color(name) }));

  return (
    <>
      <div className="dash-head">
        <h1>Dashboard</h1>
        <span>
          pool mode:{" "}
          <span className="badge" data-testid="pool-mode">
            {latest?.poolMode ?? "unknown"}
          </span>
        </span>
        <span>
          CPU <strong data-testid="cpu">{fmt(now?.cpuPercent)}</strong>% of a core
        </span>
        <span>
          memory{" "}
          <strong data-testid="memory">
            {fmt(latest?.residentBytes == null ? null : latest.residentBytes / 2 ** 20)}
          </strong>{" "}
          MiB
        </span>
        <span>
          tokio tasks <strong data-testid="tasks">{fmt(latest?.aliveTasks, 0)}</strong>
        </span>
        <span className="muted">
          {state.lastOk ? `updated ${clock(state.lastOk)}` : "waiting for the first scrape…"} · charts: last 60 s,
          each point over {RATE_WINDOW_MS / 1000} s
        </span>
      </div>

      {state.error && (
        <p className="alert" role="alert" data-testid="metrics-error">
          Metrics unavailable: {state.error}
          {state.lastOk ? ` (showing data up to ${clock(state.lastOk)})` : ""}
        </p>
      )}

      <div className="tables">
        <section className="card" aria-label="Endpoints">
          <table>
            <thead>
              <tr>
                <th rowSpan={2}>endpoint</th>
                <th colSpan={4}>last {RATE_WINDOW_MS / 1000} s</th>
                <th colSpan={4}>last {minute ? Math.round(minute.windowSecs) : "–"} s</th>
                <th rowSpan={2}>total</th>
              </tr>
              <tr>
                <th>p50 ms</th>
                <th>p95 ms</th>
                <th>req/s</th>
                <th>5xx</th>
                <th>p50 ms</th>
                <th>p95 ms</th>
                <th>req/s</th>
                <th>5xx</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.map((e) => {
                const a = now?.endpoints[e];
                const m = minute?.endpoints[e];
                return (
                  <tr key={e} data-testid={`endpoint-${e}`}>
                    <td style={{ color: color(e), fontWeight: 700 }}>{e}</td>
                    <td>{fmt(a?.p50Ms)}</td>
                    <td>{fmt(a?.p95Ms)}</td>
                    <td>{fmt(a?.rps)}</td>
                    <td>{pct(a?.errorRate)}</td>
                    <td>{fmt(m?.p50Ms)}</td>
                    <td>{fmt(m?.p95Ms)}</td>
                    <td>{fmt(m?.rps)}</td>
                    <td>{pct(m?.errorRate)}</td>
                    <td data-testid={`total-${e}`}>{latest?.endpoints[e]?.requests ?? "–"}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>

        <section className="card" aria-label="Pools">
          <table>
            <thead>
              <tr>
                <th>pool</th>
                <th>in use</th>
                <th>idle</th>
                <th>max</th>
                <th>waiters</th>
                <th>timeouts/s</th>
                <th>timeouts</th>
              </tr>
            </thead>
            <tbody>
              {pools.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted">
                    no pool metrics yet
                  </td>
                </tr>
              )}
              {pools.map((name) => {
                const p = latest!.pools[name];
                return (
                  <tr key={name} data-testid={`pool-${name}`}>
                    <td style={{ color: color(name), fontWeight: 700 }}>{name}</td>
                    <td>{fmt(p.inUse, 0)}</td>
                    <td>{fmt(p.idle, 0)}</td>
                    <td>{fmt(p.max, 0)}</td>
                    <td>{fmt(p.waiters, 0)}</td>
                    <td>{fmt(now?.pools[name]?.timeoutsPerSec)}</td>
                    <td>{fmt(p.timeoutsTotal, 0)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>

      </div>

      <div className="charts">
        <TimeChart title="p50 latency (ms)" unit="ms" series={endpointSeries} rows={perEndpoint((p, e) => p.endpoints[e].p50Ms)} />
        <TimeChart title="p95 latency (ms)" unit="ms" series={endpointSeries} rows={perEndpoint((p, e) => p.endpoints[e].p95Ms)} />
        <TimeChart title="requests/s" unit="req/s" series={endpointSeries} rows={perEndpoint((p, e) => p.endpoints[e].rps)} />
        <TimeChart
          title="5xx share (%)"
          unit="%"
          series={endpointSeries}
          rows={perEndpoint((p, e) => (p.endpoints[e].errorRate === null ? null : p.endpoints[e].errorRate! * 100))}
        />
        <TimeChart title="pool connections in use" unit="conn" series={poolSeries} rows={perPool((p, n) => p.pools[n].inUse)} />
        <TimeChart title="pool waiters" unit="waiting" series={poolSeries} rows={perPool((p, n) => p.pools[n].waiters)} />
        <TimeChart
          title="pool acquire timeouts/s"
          unit="/s"
          series={poolSeries}
          rows={perPool((p, n) => p.pools[n].timeoutsPerSec)}
        />
        <TimeChart
          title="process"
          unit=""
          series={[
            { key: "cpu", name: "CPU % of a core", color: "#c2255c" },
            { key: "tasks", name: "tokio tasks (right)", color: "#495057", dashed: true, right: true },
          ]}
          rows={rows((p) => ({ cpu: p.cpuPercent, tasks: p.aliveTasks }))}
        />
      </div>
    </>
  );
}

"use client";

/**
 * The live dashboard: asks /dashboard/metrics for a reading every second (the server runs the
 * Grafana dashboard's queries against Prometheus) and keeps a minute of readings for the charts.
 * Shows per-endpoint latency quantiles, throughput and 5xx share, per-pool connection use, and
 * the service process. Rates and quantiles are over the last 5 s (charts and the tables' left
 * half) and the last minute; the arithmetic is Prometheus's.
 *
 * `/dashboard?record` is the UI recorder's view (scripts/record-ui.mjs). It asks exactly as the
 * live page does but keeps each answer with the time it arrived instead of drawing it: eight
 * charts redrawn every second cost a core's tenth, which would be taken from the load the
 * recording shows. Once the load is over, the recorder calls `window.labDashboard.showUpTo(t)`
 * for each of its frame times: the answers that had arrived by then are applied and drawn at
 * once, so the frame shows what the live page showed at that moment.
 */
import { useEffect, useState } from "react";
import { flushSync } from "react-dom";
import { type Answer, type DashboardState, INITIAL_STATE, applyAnswer } from "../../lib/dashboard-state";
import { ENDPOINTS, MINUTE_WINDOW_SECS, RATE_WINDOW_SECS, type Reading } from "../../lib/dashboard";
import { color } from "./colors";
import { type Row, type Series, TimeChart } from "./time-chart";

const READ_EVERY_MS = 1000;
const READ_TIMEOUT_MS = 5000;

declare global {
  interface Window {
    /** Only on /dashboard?record: draws the answers that arrived by unix ms `t`; returns how many. */
    labDashboard?: { showUpTo(t: number): number };
  }
}

/** One poll of /dashboard/metrics; never throws. */
async function ask(): Promise<Answer> {
  try {
    const response = await fetch("/dashboard/metrics", { cache: "no-store", signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
    return { status: response.status, statusText: response.statusText, text: await response.text() };
  } catch (err) {
    return { failure: String(err) };
  }
}

const fmt = (v: number | null | undefined, digits = 1) =>
  v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits);
const pct = (v: number | null | undefined) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`);
const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour12: false });

export function Dashboard() {
  const [state, setState] = useState<DashboardState>(INITIAL_STATE);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const held: { t: number; answer: Answer }[] | null = new URLSearchParams(window.location.search).has("record")
      ? []
      : null;
    const read = async () => {
      const answer = await ask();
      if (stopped) return;
      if (held) held.push({ t: Date.now(), answer });
      else setState((s) => applyAnswer(s, answer));
      timer = setTimeout(read, READ_EVERY_MS);
    };
    if (held) {
      window.labDashboard = {
        showUpTo(t) {
          const due = held.splice(0, held.filter((h) => h.t <= t).length);
          flushSync(() => setState((s) => due.reduce((acc, h) => applyAnswer(acc, h.answer), s)));
          return due.length;
        },
      };
    }
    void read();
    return () => {
      stopped = true;
      clearTimeout(timer);
      delete window.labDashboard;
    };
  }, []);

  const latest = state.readings.at(-1) ?? null;
  const endpoints = latest ? Object.keys(latest.endpoints) : [...ENDPOINTS];
  const pools = latest ? Object.keys(latest.pools) : [];
  const rows = (pick: (r: Reading) => Record<string, number | null>): Row[] =>
    state.readings.map((r) => ({ x: Math.round((r.t - (latest?.t ?? r.t)) / 100) / 10, ...pick(r) }));
  const perEndpoint = (f: (r: Reading, e: string) => number | null) =>
    rows((r) => Object.fromEntries(endpoints.map((e) => [e, r.endpoints[e] ? f(r, e) : null])));
  const perPool = (f: (r: Reading, pool: string) => number | null) =>
    rows((r) => Object.fromEntries(pools.map((name) => [name, r.pools[name] ? f(r, name) : null])));
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
          CPU <strong data-testid="cpu">{fmt(latest?.cpuPercent)}</strong>% of a core
        </span>
        <span>
          memory{" "}
          <strong data-testid="memory">{fmt(latest?.memoryMiB)}</strong>{" "}
          MiB
        </span>
        <span>
          tokio tasks <strong data-testid="tasks">{fmt(latest?.aliveTasks, 0)}</strong>
        </span>
        <span className="muted">
          {state.lastOk ? `updated ${clock(state.lastOk)}` : "waiting for the first reading…"} · charts: last 60 s,
          each point over {RATE_WINDOW_SECS} s · from Prometheus
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
                <th colSpan={4}>last {RATE_WINDOW_SECS} s</th>
                <th colSpan={4}>last {MINUTE_WINDOW_SECS} s</th>
                <th rowSpan={2}>in flight</th>
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
                const a = latest?.endpoints[e]?.now;
                const m = latest?.endpoints[e]?.minute;
                return (
                  <tr key={e} data-testid={`endpoint-${e}`}>
                    <td style={{ color: color(e), fontWeight: 700 }}>{e}</td>
                    <td>{fmt(a?.p50Ms)}</td>
                    <td>{fmt(a?.p95Ms)}</td>
                    <td>{fmt(a?.rps)}</td>
                    <td>{pct(a?.errorShare)}</td>
                    <td>{fmt(m?.p50Ms)}</td>
                    <td>{fmt(m?.p95Ms)}</td>
                    <td>{fmt(m?.rps)}</td>
                    <td>{pct(m?.errorShare)}</td>
                    <td>{fmt(latest?.endpoints[e]?.inFlight, 0)}</td>
                    <td data-testid={`total-${e}`}>{latest?.endpoints[e]?.requestsTotal ?? "–"}</td>
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
                <th>hold ms</th>
              </tr>
            </thead>
            <tbody>
              {pools.length === 0 && (
                <tr>
                  <td colSpan={8} className="muted">
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
                    <td>{fmt(p.timeoutsPerSec)}</td>
                    <td>{fmt(p.timeoutsTotal, 0)}</td>
                    <td>{fmt(p.holdMs)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>

      </div>

      <div className="charts">
        <TimeChart title="p50 latency (ms)" unit="ms" series={endpointSeries} rows={perEndpoint((r, e) => r.endpoints[e].now.p50Ms)} />
        <TimeChart title="p95 latency (ms)" unit="ms" series={endpointSeries} rows={perEndpoint((r, e) => r.endpoints[e].now.p95Ms)} />
        <TimeChart title="requests/s" unit="req/s" series={endpointSeries} rows={perEndpoint((r, e) => r.endpoints[e].now.rps)} />
        <TimeChart
          title="5xx share (%)"
          unit="%"
          series={endpointSeries}
          rows={perEndpoint((r, e) => {
            const share = r.endpoints[e].now.errorShare;
            return share === null ? null : share * 100;
          })}
        />
        <TimeChart title="pool connections in use" unit="conn" series={poolSeries} rows={perPool((r, n) => r.pools[n].inUse)} />
        <TimeChart title="pool waiters" unit="waiting" series={poolSeries} rows={perPool((r, n) => r.pools[n].waiters)} />
        <TimeChart
          title="pool acquire timeouts/s"
          unit="/s"
          series={poolSeries}
          rows={perPool((r, n) => r.pools[n].timeoutsPerSec)}
        />
        <TimeChart
          title="process"
          unit=""
          series={[
            { key: "cpu", name: "CPU % of a core", color: "#c2255c" },
            { key: "tasks", name: "tokio tasks (right)", color: "#495057", dashed: true, right: true },
          ]}
          rows={rows((r) => ({ cpu: r.cpuPercent, tasks: r.aliveTasks }))}
        />
      </div>
    </>
  );
}

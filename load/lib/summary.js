// The end-of-test summary: a JSON file for the experiment runner and a short text table for
// people. The text is written here because k6's own `textSummary` lives on jslib.k6.io, which
// this lab cannot reach, and k6 prints its default summary only when `handleSummary` is absent.

import { Counter } from 'k6/metrics';
import { ENDPOINTS as BY_SCENARIO } from './profile.js';

/** The service's `endpoint` label values, also used as the k6 `endpoint` tag (load/shape.json). */
export const ENDPOINTS = Object.values(BY_SCENARIO).map((e) => e.endpoint);

/**
 * Response outcomes counted per endpoint: 503 is the service shedding load (`database_busy`,
 * a pool acquire timeout); `no_response` is a k6-side timeout or a refused/reset connection.
 */
export const OUTCOMES = ['2xx', '4xx', '503', '5xx_other', 'no_response'];

/** Percentiles reported per endpoint (k6's `summaryTrendStats` must include them). */
export const TREND_STATS = ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)', 'count'];

// k6 summarises a tagged sub-metric only when a threshold names it, so the outcome counts are
// plain counters, one per endpoint and outcome, created in the init context as k6 requires.
const outcomeCounters = {};
for (const endpoint of ENDPOINTS) {
  for (const outcome of OUTCOMES) {
    outcomeCounters[`${endpoint}/${outcome}`] = new Counter(counterName(endpoint, outcome));
  }
}

function counterName(endpoint, outcome) {
  return `responses_${endpoint}_${outcome}`;
}

function outcomeOf(status) {
  if (status === 0) return 'no_response';
  if (status === 503) return '503';
  if (status >= 500) return '5xx_other';
  if (status >= 400) return '4xx';
  return '2xx';
}

/** Counts one response of `endpoint` under its outcome. */
export function countResponse(endpoint, response) {
  outcomeCounters[`${endpoint}/${outcomeOf(response.status)}`].add(1);
}

function round(value, digits = 2) {
  if (value === undefined || value === null || !Number.isFinite(value)) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The summary object written to SUMMARY_PATH (its shape is documented in load/README.md). */
export function buildSummary(data, profile) {
  const metrics = data.metrics;
  const seconds = data.state.testRunDurationMs / 1000;
  const endpoints = {};
  for (const endpoint of ENDPOINTS) {
    const duration = (metrics[`http_req_duration{endpoint:${endpoint}}`] || {}).values || {};
    const failed = (metrics[`http_req_failed{endpoint:${endpoint}}`] || {}).values || {};
    const count = duration.count || 0;
    const status = {};
    for (const outcome of OUTCOMES) {
      const counter = metrics[counterName(endpoint, outcome)];
      status[outcome] = counter ? counter.values.count : 0;
    }
    endpoints[endpoint] = {
      count,
      rate_per_s: round(count / seconds),
      error_rate: count ? round(failed.rate || 0, 4) : null,
      latency_ms: {
        avg: round(duration.avg),
        p50: round(duration['p(50)']),
        p90: round(duration['p(90)']),
        p95: round(duration['p(95)']),
        p99: round(duration['p(99)']),
        max: round(duration.max),
      },
      status,
    };
  }

  const thresholds = [];
  for (const [metric, body] of Object.entries(metrics)) {
    for (const [expression, result] of Object.entries(body.thresholds || {})) {
      thresholds.push({ metric, expression, ok: result.ok });
    }
  }

  const dropped = metrics.dropped_iterations;
  const checks = metrics.checks;
  return {
    profile,
    test_run_duration_s: round(seconds),
    endpoints,
    dropped_iterations: dropped ? dropped.values.count : 0,
    vus_max: metrics.vus_max ? metrics.vus_max.values.max : null,
    checks: checks ? { passes: checks.values.passes, fails: checks.values.fails } : null,
    thresholds,
  };
}

function pad(value, width) {
  const text = value === null || value === undefined ? '-' : String(value);
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}

/** A compact text rendering of `summary` for the terminal. */
export function textSummary(summary) {
  const p = summary.profile;
  const lines = [
    '',
    `todo-service load, profile ${p.name}: base ${p.base_rps} req/s, ` +
      `${p.bursts} bursts of ${p.burst_s} s at ` +
      `${p.burst_rates && p.burst_rates.length ? p.burst_rates.join(', ') : p.burst_rps} req/s ` +
      `(warm-up ${p.warmup_s} s, gap ${p.gap_s} s, recovery ${p.recovery_s} s), ` +
      `${summary.test_run_duration_s} s in all`,
    '',
    `${'endpoint'.padEnd(12)}${pad('requests', 9)}${pad('req/s', 8)}${pad('errors', 8)}` +
      `${pad('p50 ms', 9)}${pad('p90 ms', 9)}${pad('p95 ms', 9)}${pad('p99 ms', 9)}` +
      `${pad('max ms', 9)}   ${OUTCOMES.join(' / ')}`,
  ];
  for (const [endpoint, e] of Object.entries(summary.endpoints)) {
    const errors = e.error_rate === null ? null : `${(e.error_rate * 100).toFixed(1)}%`;
    lines.push(
      `${endpoint.padEnd(12)}${pad(e.count, 9)}${pad(e.rate_per_s, 8)}${pad(errors, 8)}` +
        `${pad(e.latency_ms.p50, 9)}${pad(e.latency_ms.p90, 9)}${pad(e.latency_ms.p95, 9)}` +
        `${pad(e.latency_ms.p99, 9)}${pad(e.latency_ms.max, 9)}   ` +
        OUTCOMES.map((outcome) => e.status[outcome]).join(' / '),
    );
  }
  lines.push('');
  lines.push(`dropped iterations: ${summary.dropped_iterations} (VUs allocated: ${summary.vus_max})`);
  if (summary.checks) {
    lines.push(`checks: ${summary.checks.passes} passed, ${summary.checks.fails} failed`);
  }
  lines.push('thresholds (reported, never abort the run):');
  for (const t of summary.thresholds) {
    lines.push(`  ${t.ok ? 'ok    ' : 'BREACH'}  ${t.metric}  ${t.expression}`);
  }
  lines.push('');
  return lines.join('\n');
}

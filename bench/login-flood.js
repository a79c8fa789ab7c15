// N logins at once, one per seeded user (user1..userN@lab.test), each sent once. Run by
// bench/login-flood.sh, which reads the one summary line this prints.
//
// Env: BASE_URL, LOGINS (default 500), PASSWORD (the seed password), CLIENT_TIMEOUT (default 60s).
import http from 'k6/http';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const LOGINS = Number(__ENV.LOGINS || 500);
const PASSWORD = __ENV.PASSWORD || 'lab-password';
// Answers a login can get; a threshold on each makes k6 keep its count for the summary.
const STATUSES = [200, 401, 429, 503];

export const options = {
  scenarios: { flood: { executor: 'per-vu-iterations', vus: LOGINS, iterations: 1, maxDuration: '180s' } },
  thresholds: Object.fromEntries(STATUSES.map((s) => [`http_reqs{status:${s}}`, ['count>=0']])),
  summaryTrendStats: ['med', 'max'],
};

export default function () {
  http.post(`${BASE_URL}/login`, JSON.stringify({ email: `user${__VU}@lab.test`, password: PASSWORD }), {
    headers: { 'Content-Type': 'application/json' },
    timeout: __ENV.CLIENT_TIMEOUT || '60s',
  });
}

export function handleSummary(data) {
  const count = (name) => (data.metrics[name] ? data.metrics[name].values.count : 0);
  const total = count('http_reqs');
  const counts = STATUSES.map((s) => [s, count(`http_reqs{status:${s}}`)]);
  const other = total - counts.reduce((sum, [, n]) => sum + n, 0);
  const duration = data.metrics.http_req_duration.values;
  const line = [
    `logins=${total}`,
    ...counts.map(([s, n]) => `status_${s}=${n}`),
    `status_other=${other}`,
    `median_ms=${duration.med.toFixed(0)}`,
    `slowest_ms=${duration.max.toFixed(0)}`,
  ].join(' ');
  return { stdout: `${line}\n` };
}

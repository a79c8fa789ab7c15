// GET /todos at a constant rate while bench/database-outage.sh stops Postgres for a while. Prints
// one line per response, "<epoch ms> <status> <error code>", for the script to count.
//
// Env: BASE_URL, RATE (requests/s, default 200), DURATION (default 12s).
import http from 'k6/http';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';

export const options = {
  scenarios: {
    reads: {
      executor: 'constant-arrival-rate', rate: Number(__ENV.RATE || 200), timeUnit: '1s',
      duration: __ENV.DURATION || '12s', preAllocatedVUs: 50, maxVUs: 200,
    },
  },
};

export function setup() {
  const res = http.post(`${BASE_URL}/login`, JSON.stringify({ email: 'demo@lab.test', password: 'demo-password' }),
    { headers: { 'Content-Type': 'application/json' } });
  return { auth: { headers: { Authorization: `Bearer ${res.json('token')}` } } };
}

export default function (data) {
  const res = http.get(`${BASE_URL}/todos`, data.auth);
  let code = '-';
  if (res.status !== 200) {
    try { code = res.json('error') || '-'; } catch (_) { code = 'not_json'; }
  }
  console.log(`answer ${Date.now()} ${res.status} ${code}`);
}

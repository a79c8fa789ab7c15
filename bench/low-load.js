// Low-load latency of each endpoint: a few requests per second, far below any pool limit, so the
// numbers show what one request costs, not queueing. Run by scripts/bench-low-load.sh.
//
// Env: BASE_URL, RATE (requests/s per endpoint, default 10), DURATION (default 30s),
//      EMAIL, PASSWORD (an account to log in as).
import http from 'k6/http';
import { check } from 'k6';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const RATE = Number(__ENV.RATE || 10);
const DURATION = __ENV.DURATION || '30s';
const credentials = JSON.stringify({ email: __ENV.EMAIL || 'user1@lab.test', password: __ENV.PASSWORD || 'lab-password' });
const json = { headers: { 'Content-Type': 'application/json' } };

const scenario = (exec) => ({ executor: 'constant-arrival-rate', exec, rate: RATE, timeUnit: '1s', duration: DURATION, preAllocatedVUs: 10, maxVUs: 50 });

export const options = {
  scenarios: { login: scenario('login'), create_todo: scenario('createTodo'), list_todos: scenario('listTodos') },
  summaryTrendStats: ['med', 'p(95)', 'max'],
  thresholds: {
    'http_req_duration{endpoint:login}': ['med>=0'],
    'http_req_duration{endpoint:create_todo}': ['med>=0'],
    'http_req_duration{endpoint:list_todos}': ['med>=0'],
    'http_req_failed': ['rate==0'],
  },
};

export function setup() {
  const res = http.post(`${BASE_URL}/login`, credentials, json);
  check(res, { 'setup login 200': (r) => r.status === 200 });
  return { auth: { headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${res.json('token')}` } } };
}

export function login() {
  const res = http.post(`${BASE_URL}/login`, credentials, { ...json, tags: { endpoint: 'login' } });
  check(res, { 'login 200': (r) => r.status === 200 });
}

export function createTodo(data) {
  const res = http.post(`${BASE_URL}/todos`, JSON.stringify({ title: 'bench todo' }), { ...data.auth, tags: { endpoint: 'create_todo' } });
  check(res, { 'create 201': (r) => r.status === 201 });
}

export function listTodos(data) {
  const res = http.get(`${BASE_URL}/todos?limit=20`, { ...data.auth, tags: { endpoint: 'list_todos' } });
  check(res, { 'list 200': (r) => r.status === 200 });
}

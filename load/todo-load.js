// The lab's load: logins and todo writes in bursts, todo reads alongside, as an open model.
//
//   K6="$(scripts/install-k6.sh)"
//   PROFILE=quick SUMMARY_PATH=/tmp/summary.json "$K6" run load/todo-load.js
//
// Three `ramping-arrival-rate` scenarios (`login`, `create`, `read`) with the same stage timing
// carry 40% / 40% / 20% of the total rate. Every request is tagged `endpoint` with the service's
// metric label. Thresholds are reported, never abort the run: the shared-pool act is expected
// to breach them (k6 then exits with code 99). Variables and the summary: load/README.md.

import http from 'k6/http';
import { check } from 'k6';
import { readProfile, scenario, SHARES } from './lib/profile.js';
import { buildSummary, countResponse, textSummary, TREND_STATS } from './lib/summary.js';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const USERS = Number(__ENV.USERS || 1000);
const PASSWORD = __ENV.PASSWORD || 'lab-password';
const SESSIONS = Number(__ENV.SESSIONS || 50);
const SUMMARY_PATH = __ENV.SUMMARY_PATH || '';
// Longer than any queue the service should build; a request still unanswered by then counts as
// `no_response` rather than holding a VU.
const REQUEST_TIMEOUT = __ENV.REQUEST_TIMEOUT || '10s';
// `false`: every iteration opens a new connection and closes it at its end (k6's
// noVUConnectionReuse), as if each arrival were a client of its own. Open connections (one
// tokio task each in the service) then follow the requests in flight: a burst of new clients is
// a burst of new connections. `true` (the default here): each VU keeps its connection alive.
const VU_CONNECTION_REUSE = (__ENV.VU_CONNECTION_REUSE || 'true') !== 'false';

const profile = readProfile();

export const options = {
  scenarios: {
    login: scenario(profile, SHARES.login, 'login'),
    create: scenario(profile, SHARES.create, 'createTodo'),
    read: scenario(profile, SHARES.read, 'listTodos'),
  },
  // Reported per endpoint; none aborts the run (no `abortOnFail`), as the point of the first
  // act is to breach them.
  thresholds: {
    'http_req_duration{endpoint:login}': ['p(95)<500'],
    'http_req_duration{endpoint:create_todo}': ['p(95)<250'],
    'http_req_duration{endpoint:list_todos}': ['p(95)<100'],
    'http_req_failed{endpoint:login}': ['rate<0.01'],
    'http_req_failed{endpoint:create_todo}': ['rate<0.01'],
    'http_req_failed{endpoint:list_todos}': ['rate<0.01'],
  },
  noVUConnectionReuse: !VU_CONNECTION_REUSE,
  summaryTrendStats: TREND_STATS,
  userAgent: 'todo-lab-k6',
  // setup() logs in SESSIONS users one after another; allow for a slow database.
  setupTimeout: '120s',
};

const JSON_HEADERS = { 'Content-Type': 'application/json' };

function randomUser() {
  return `user${1 + Math.floor(Math.random() * USERS)}@lab.test`;
}

function loginBody(email) {
  return JSON.stringify({ email, password: PASSWORD });
}

/** Logs in SESSIONS seeded users and hands their tokens to the create and read scenarios. */
export function setup() {
  const tokens = [];
  for (let i = 0; i < SESSIONS; i++) {
    const email = `user${1 + (i % USERS)}@lab.test`;
    const response = http.post(`${BASE_URL}/login`, loginBody(email), {
      headers: JSON_HEADERS,
      // Tagged apart so these sequential, unloaded logins stay out of the login statistics.
      tags: { endpoint: 'setup_login' },
      timeout: REQUEST_TIMEOUT,
    });
    if (response.status === 200) {
      tokens.push(response.json('token'));
    } else {
      console.warn(`setup: login of ${email} answered ${response.status}: ${response.body}`);
    }
  }
  if (tokens.length === 0) {
    throw new Error(`setup: no login succeeded against ${BASE_URL}; is the service up and seeded?`);
  }
  return { tokens };
}

function authorized(data, endpoint, extraHeaders = {}) {
  const token = data.tokens[Math.floor(Math.random() * data.tokens.length)];
  return {
    headers: { Authorization: `Bearer ${token}`, ...extraHeaders },
    tags: { endpoint },
    timeout: REQUEST_TIMEOUT,
    // The bodies are not read; not keeping them saves k6 memory and CPU at high rates.
    responseType: 'none',
  };
}

/** `login` scenario: a fresh login of a random seeded user (a new session row each time). */
export function login() {
  const response = http.post(`${BASE_URL}/login`, loginBody(randomUser()), {
    headers: JSON_HEADERS,
    tags: { endpoint: 'login' },
    timeout: REQUEST_TIMEOUT,
    responseType: 'none',
    // A jar of its own, empty and thrown away: no session cookie from an earlier login is sent.
    jar: new http.CookieJar(),
  });
  countResponse('login', response);
  check(response, { 'login: 200': (r) => r.status === 200 });
}

/** `create` scenario: POST /todos with a short random title. */
export function createTodo(data) {
  const title = `load ${Math.random().toString(36).slice(2, 10)}`;
  const response = http.post(
    `${BASE_URL}/todos`,
    JSON.stringify({ title }),
    authorized(data, 'create_todo', JSON_HEADERS),
  );
  countResponse('create_todo', response);
  check(response, { 'create_todo: 201': (r) => r.status === 201 });
}

/** `read` scenario: the newest 20 todos. */
export function listTodos(data) {
  const response = http.get(`${BASE_URL}/todos?limit=20`, authorized(data, 'list_todos'));
  countResponse('list_todos', response);
  check(response, { 'list_todos: 200': (r) => r.status === 200 });
}

export function handleSummary(data) {
  const summary = buildSummary(data, { ...profile, base_url: BASE_URL, users: USERS, sessions: SESSIONS });
  const outputs = { stdout: textSummary(summary) };
  if (SUMMARY_PATH) {
    outputs[SUMMARY_PATH] = JSON.stringify(summary, null, 2);
    outputs.stdout += `summary written to ${SUMMARY_PATH}\n`;
  }
  return outputs;
}

// The lab's load: logins and todo writes in bursts, todo reads alongside, as an open model.
//
//   K6="$(scripts/install-k6.sh)"
//   PROFILE=quick SUMMARY_PATH=/tmp/summary.json "$K6" run load/todo-load.js
//
// Three `ramping-arrival-rate` scenarios (`login`, `create`, `read`) with the same stage timing
// carry their share of the total rate (load/shape.json: 40% / 40% / 20%). Every request is tagged
// `endpoint` with the service's metric label (shape.json's too). Thresholds are reported, never
// abort the run: the shared-pool act is expected to breach them (k6 then exits with code 99).
// Variables and the summary: load/README.md.

import http from 'k6/http';
import { check } from 'k6';
import { ENDPOINTS, readProfile, scenario } from './lib/profile.js';
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
const { login: LOGIN, create: CREATE, read: READ } = ENDPOINTS;
// Each endpoint's p95 threshold in ms: a login hashes a password and writes a session, a todo
// write is one insert, a read one indexed select.
const P95_MS = { [LOGIN.endpoint]: 500, [CREATE.endpoint]: 250, [READ.endpoint]: 100 };

export const options = {
  scenarios: {
    login: scenario(profile, LOGIN.share, 'login'),
    create: scenario(profile, CREATE.share, 'createTodo'),
    read: scenario(profile, READ.share, 'listTodos'),
  },
  // Reported per endpoint; none aborts the run (no `abortOnFail`), as the point of the first
  // act is to breach them.
  thresholds: Object.fromEntries(
    Object.entries(P95_MS).flatMap(([endpoint, ms]) => [
      [`http_req_duration{endpoint:${endpoint}}`, [`p(95)<${ms}`]],
      [`http_req_failed{endpoint:${endpoint}}`, ['rate<0.01']],
    ]),
  ),
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
    tags: { endpoint: LOGIN.endpoint },
    timeout: REQUEST_TIMEOUT,
    responseType: 'none',
    // A jar of its own, empty and thrown away: no session cookie from an earlier login is sent.
    jar: new http.CookieJar(),
  });
  countResponse(LOGIN.endpoint, response);
  check(response, { [`${LOGIN.endpoint}: 200`]: (r) => r.status === 200 });
}

/** `create` scenario: POST /todos with a short random title. */
export function createTodo(data) {
  const title = `load ${Math.random().toString(36).slice(2, 10)}`;
  const response = http.post(
    `${BASE_URL}/todos`,
    JSON.stringify({ title }),
    authorized(data, CREATE.endpoint, JSON_HEADERS),
  );
  countResponse(CREATE.endpoint, response);
  check(response, { [`${CREATE.endpoint}: 201`]: (r) => r.status === 201 });
}

/** `read` scenario: the newest 20 todos. */
export function listTodos(data) {
  const response = http.get(`${BASE_URL}/todos?limit=20`, authorized(data, READ.endpoint));
  countResponse(READ.endpoint, response);
  check(response, { [`${READ.endpoint}: 200`]: (r) => r.status === 200 });
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

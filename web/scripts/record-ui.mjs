#!/usr/bin/env node
// Records what a person sees during a load act, for the experiment report.
//
//   node web/scripts/record-ui.mjs --base-url http://127.0.0.1:3000 --out DIR --seconds S [--frame-ms 1500]
//
// One Chromium (1280x800) logs in as the demo user and keeps the todos page open with
// its 2 s auto-refresh, adding a todo through the form every ~5 s; a second page keeps
// /dashboard open. Every frame-ms both are saved as DIR/ui/frame-NNNNN.png and
// DIR/dashboard/frame-NNNNN.png. DIR/ui-timeline.jsonl gets one line per todos
// load or add, taken from the page's own network requests:
//   {"t": start unix ms, "kind": "load"|"add", "ms": duration, "ok": bool,
//    "status": HTTP status or null, "error": text or null}
// It stops by itself after S seconds and exits 0 even when the service failed
// requests (failures are the data); only bad arguments or no browser exit non-zero.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { launchBrowser, logIn, newContext } from "./lib/browser.mjs";

const ADD_EVERY_MS = 5000;
const LOGIN_RETRY_MS = 2000;
const ACTION_TIMEOUT_MS = 3000;

const { values: opts } = parseArgs({
  options: {
    "base-url": { type: "string", default: "http://127.0.0.1:3000" },
    out: { type: "string" },
    seconds: { type: "string" },
    "frame-ms": { type: "string", default: "1500" },
  },
});
const seconds = Number(opts.seconds);
const frameMs = Number(opts["frame-ms"]);
if (!opts.out || !(seconds > 0) || !(frameMs >= 100)) {
  console.error("usage: record-ui.mjs --base-url URL --out DIR --seconds S [--frame-ms 1500]");
  process.exit(2);
}

const say = (msg) => console.error(`[record-ui] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const deadline = Date.now() + seconds * 1000;
const running = () => Date.now() < deadline;

// Whatever happens (a hung browser, say), stop soon after the time is up.
setTimeout(() => {
  say("did not finish in time; exiting");
  process.exit(0);
}, (seconds + 20) * 1000).unref();

const timelinePath = join(opts.out, "ui-timeline.jsonl");
for (const dir of ["ui", "dashboard"]) mkdirSync(join(opts.out, dir), { recursive: true });
writeFileSync(timelinePath, "");
const counts = { load: [0, 0], add: [0, 0] }; // [ok, failed]

function record(entry) {
  appendFileSync(timelinePath, `${JSON.stringify(entry)}\n`);
  counts[entry.kind][entry.ok ? 0 : 1]++;
}

/** Times every /api/todos request of `page` as the browser saw it. */
function watchTodoRequests(page) {
  const isTodos = (request) => new URL(request.url()).pathname === "/api/todos";
  const kindOf = (request) => (request.method() === "POST" ? "add" : "load");
  const started = new Map();
  page.on("request", (request) => {
    if (isTodos(request)) started.set(request, Date.now());
  });
  page.on("requestfinished", async (request) => {
    if (!started.has(request)) return;
    const t = started.get(request);
    started.delete(request);
    const timing = request.timing();
    const ms = timing.responseEnd >= 0 ? timing.responseEnd : Date.now() - t;
    const response = await request.response().catch(() => null);
    const status = response?.status() ?? null;
    const ok = status !== null && status >= 200 && status < 300;
    let error = null;
    if (!ok) {
      const body = await response?.json().catch(() => null);
      error = body?.error ? `${status} ${body.error}${body.message ? `: ${body.message}` : ""}` : `${status}`;
    }
    record({ t: Math.round(timing.startTime > 0 ? timing.startTime : t), kind: kindOf(request), ms: Math.round(ms), ok, status, error });
  });
  page.on("requestfailed", (request) => {
    if (!started.has(request)) return;
    const t = started.get(request);
    started.delete(request);
    const error = request.failure()?.errorText ?? "request failed";
    record({ t, kind: kindOf(request), ms: Date.now() - t, ok: false, status: null, error });
  });
}

/** Logs in (retrying: under load the login itself may be answered 503), then adds todos. */
async function actAsUser(page) {
  while (running()) {
    try {
      await logIn(page, undefined, { timeout: Math.min(10_000, Math.max(1000, deadline - Date.now())) });
      break;
    } catch {
      say("login did not go through yet; retrying");
      await sleep(LOGIN_RETRY_MS);
    }
  }
  for (let n = 1; running(); n++) {
    const next = Date.now() + ADD_EVERY_MS;
    try {
      const button = page.getByRole("button", { name: "Add" });
      if (await button.isEnabled({ timeout: ACTION_TIMEOUT_MS })) {
        await page.getByLabel("New todo").fill(`recorded todo ${n}`, { timeout: ACTION_TIMEOUT_MS });
        await button.click({ timeout: ACTION_TIMEOUT_MS });
      }
    } catch (err) {
      say(`could not add a todo: ${err.message.split("\n")[0]}`);
    }
    await sleep(Math.min(next, deadline) - Date.now());
  }
}

async function saveFrames(pages) {
  for (let i = 1; running(); i++) {
    const next = Date.now() + frameMs;
    const name = `frame-${String(i).padStart(5, "0")}.png`;
    await Promise.all(
      Object.entries(pages).map(([dir, page]) =>
        page.screenshot({ path: join(opts.out, dir, name), timeout: frameMs * 2 }).catch((err) => {
          say(`no ${dir} frame ${i}: ${err.message.split("\n")[0]}`);
        }),
      ),
    );
    await sleep(Math.min(next, deadline) - Date.now());
  }
}

let browser;
try {
  browser = await launchBrowser();
} catch (err) {
  console.error(`[record-ui] cannot start Chromium: ${err.message}`);
  process.exit(1);
}
try {
  const context = await newContext(browser, opts["base-url"]);
  const [ui, dashboard] = [await context.newPage(), await context.newPage()];
  watchTodoRequests(ui);
  await dashboard.goto("/dashboard").catch((err) => say(`dashboard did not load: ${err.message}`));
  say(`recording ${seconds} s into ${opts.out}`);
  await Promise.all([actAsUser(ui), saveFrames({ ui, dashboard })]);
} catch (err) {
  say(`stopped early: ${err.message}`);
} finally {
  await Promise.race([browser.close(), sleep(10_000)]);
}
say(`loads ok/failed ${counts.load.join("/")}, adds ok/failed ${counts.add.join("/")}`);
process.exit(0);

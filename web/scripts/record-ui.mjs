#!/usr/bin/env node
// Records what a person sees during a load act, for the experiment report.
//
//   node web/scripts/record-ui.mjs --base-url http://127.0.0.1:3000 --out DIR --seconds S [--frame-ms 1500]
//
// One Chromium (1280x800) logs in as the demo user and keeps the todos page open with
// its 2 s auto-refresh, adding a todo through the form every ~5 s; a second page keeps
// /dashboard?record open. Every frame-ms is one frame of each, DIR/ui/frame-NNNNN.png and
// DIR/dashboard/frame-NNNNN.png, each file's mtime the frame's time (the post kit matches
// frames to moments by it). DIR/ui-timeline.jsonl gets one line per todos
// load or add, taken from the page's own network requests:
//   {"t": start unix ms, "kind": "load"|"add", "ms": duration, "ok": bool,
//    "status": HTTP status or null, "error": text or null}
//
// The CPU a frame costs is taken from the load it shows, so little is drawn while the load runs
// (bench/recorder-cost.sh measures it):
// - the dashboard's eight charts, which cost the most (each reading redraws them all), are not
//   drawn then: /dashboard?record asks for its readings as the live page does but only keeps the
//   answers (app/ui/dashboard/dashboard.tsx). When the recording ends, each dashboard frame is
//   drawn from the answers that had arrived by its time, and saved;
// - the todos page is taken straight from Chromium (Page.captureScreenshot), without the
//   preparations of Playwright's page.screenshot.
// It stops recording after S seconds, or at SIGTERM (how the experiment's runner stops it once
// the load is over), draws the dashboard frames (~0.2 s each), and exits 0 even when the
// service failed requests (failures are the data); only bad arguments or no browser exit non-zero.
import { appendFileSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { launchBrowser, logIn, newContext } from "./lib/browser.mjs";

const ADD_EVERY_MS = 5000;
const LOGIN_RETRY_MS = 2000;
const ACTION_TIMEOUT_MS = 3000;
// Drawing one dashboard frame after the load takes ~0.2 s; this bounds a stuck one.
const DRAW_TIMEOUT_MS = 5000;

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
let deadline = Date.now() + seconds * 1000;
const running = () => Date.now() < deadline;
let stopNow;
const stopped = new Promise((resolve) => (stopNow = resolve));
/** A wait that SIGTERM cuts short. */
const pause = (ms) => Promise.race([sleep(ms), stopped]);
process.on("SIGTERM", () => {
  say("asked to stop");
  deadline = Math.min(deadline, Date.now());
  stopNow();
});

/** Whatever happens (a hung browser, say), exits after `ms`. */
const exitAfter = (ms) =>
  setTimeout(() => {
    say("did not finish in time; exiting");
    process.exit(0);
  }, ms).unref();
let guard = exitAfter((seconds + 20) * 1000);

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
      await pause(LOGIN_RETRY_MS);
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
    await pause(Math.min(next, deadline) - Date.now());
  }
}

/** The page's picture as PNG bytes, straight from Chromium (Page.captureScreenshot). */
async function pictureTaker(context, page) {
  const cdp = await context.newCDPSession(page);
  return async () => {
    // The whole viewport, no clip and none of Playwright's preparations (page.screenshot's
    // caret hiding, font wait and clip cost about a third more); fast zlib: bigger files, less CPU.
    const { data } = await cdp.send("Page.captureScreenshot", { format: "png", optimizeForSpeed: true });
    return Buffer.from(data, "base64");
  };
}

const frameName = (i) => `frame-${String(i).padStart(5, "0")}.png`;

/** Saves a picture of the todos page every frame-ms; returns the frames' times (unix ms). */
async function saveFrames(takePicture) {
  const times = [];
  for (let i = 1; running(); i++) {
    const t = Date.now();
    times.push(t);
    try {
      const path = join(opts.out, "ui", frameName(i));
      writeFileSync(path, await within(takePicture(), frameMs * 2, "the picture"));
      utimesSync(path, t / 1000, t / 1000); // the frame's moment, as the dashboard's frame of the same name
    } catch (err) {
      say(`no ui frame ${i}: ${err.message.split("\n")[0]}`);
    }
    await pause(Math.min(t + frameMs, deadline) - Date.now());
  }
  return times;
}

/** `promise`, or an error once `ms` passed without it. */
function within(promise, ms, what) {
  promise.catch(() => {}); // a late failure is no longer anybody's concern
  return Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(`${what} took over ${ms} ms`)))]);
}

/** Draws and saves each dashboard frame from the answers that had arrived by its time. */
async function drawDashboardFrames(dashboard, times) {
  const started = Date.now();
  if (!(await within(dashboard.evaluate(() => Boolean(window.labDashboard)), DRAW_TIMEOUT_MS, "the dashboard"))) {
    say("no dashboard frames: /dashboard?record did not load");
    return;
  }
  for (const [n, t] of times.entries()) {
    const path = join(opts.out, "dashboard", frameName(n + 1));
    try {
      // Drawn synchronously; the screenshot waits for the next frame.
      await within(dashboard.evaluate((upTo) => window.labDashboard.showUpTo(upTo), t), DRAW_TIMEOUT_MS, "drawing");
      await dashboard.screenshot({ path, timeout: DRAW_TIMEOUT_MS });
      utimesSync(path, t / 1000, t / 1000);
    } catch (err) {
      say(`no dashboard frame ${n + 1}: ${err.message.split("\n")[0]}`);
    }
  }
  say(`drew ${times.length} dashboard frames in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

let browser;
try {
  browser = await launchBrowser({ handleSIGTERM: false });
} catch (err) {
  console.error(`[record-ui] cannot start Chromium: ${err.message}`);
  process.exit(1);
}
try {
  const context = await newContext(browser, opts["base-url"]);
  const [ui, dashboard] = [await context.newPage(), await context.newPage()];
  watchTodoRequests(ui);
  await dashboard.goto("/dashboard?record").catch((err) => say(`dashboard did not load: ${err.message}`));
  const takePicture = await pictureTaker(context, ui);
  say(`recording ${seconds} s into ${opts.out}`);
  const acting = actAsUser(ui); // ends by itself once the recording does
  const times = await saveFrames(takePicture);
  // Drawing a frame takes far less than frame-ms: the recording's own length bounds it.
  clearTimeout(guard);
  guard = exitAfter(times.length * frameMs + 10_000);
  await drawDashboardFrames(dashboard, times).catch((err) => say(`no dashboard frames: ${err.message}`));
  await acting;
} catch (err) {
  say(`stopped early: ${err.message}`);
} finally {
  await Promise.race([browser.close(), sleep(10_000)]);
}
say(`loads ok/failed ${counts.load.join("/")}, adds ok/failed ${counts.add.join("/")}`);
process.exit(0);

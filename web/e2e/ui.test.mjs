// Browser tests against the real lab: Postgres, the seeded todo service and the
// production build of the UI, driven through Debian's Chromium.
// Run from web/: `npm run test:e2e` (after `npm run build` and building the service).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DEMO, launchBrowser, logIn, newContext } from "../scripts/lib/browser.mjs";
import { RESULTS_DIR, WEB_DIR, startLab } from "./harness.mjs";

const WAIT = { timeout: 20_000 }; // generous: the machine is shared and small

let lab;
let browser;

before(async () => {
  lab = await startLab();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await lab?.stop();
});

const shot = (page, name) => page.screenshot({ path: join(RESULTS_DIR, `${name}.png`) });

async function freshPage() {
  const context = await newContext(browser, lab.baseUrl);
  return context.newPage();
}

/** Polls `read` until `accept(value)` holds; returns the value. */
async function eventually(read, accept, what, timeoutMs = WAIT.timeout) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await read();
    if (accept(last)) return last;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** How many pixels the page is wider than the window (tables may scroll inside their cards). */
const horizontalOverflow = (page) =>
  page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth));

describe("logging in", () => {
  test("a visitor without a session is sent to /login", async () => {
    const page = await freshPage();
    await page.goto("/todos");
    assert.match(new URL(page.url()).pathname, /^\/login$/);
    await page.goto("/");
    assert.match(new URL(page.url()).pathname, /^\/login$/);
    await page.getByLabel("Email").waitFor(WAIT);
    await shot(page, "login");
    await page.context().close();
  });

  test("a session the service does not know sends the page back to /login", async () => {
    const page = await freshPage();
    await page.context().addCookies([{ name: "session", value: "not-a-real-token", url: lab.baseUrl }]);
    await page.goto("/todos");
    await page.waitForURL("**/login?next=*", WAIT);
    await page.context().close();
  });

  test("a wrong password shows an error and stays on /login", async () => {
    const page = await freshPage();
    await page.goto("/login");
    await page.getByLabel("Email").fill(DEMO.email);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Log in" }).click();
    const alert = page.getByTestId("login-error");
    await alert.waitFor(WAIT);
    assert.match(await alert.innerText(), /wrong email or password/i);
    assert.match(new URL(page.url()).pathname, /^\/login$/);
    await shot(page, "login-wrong-password");
    await page.context().close();
  });
});

describe("the todos page", () => {
  test("the demo user logs in, sees the latest todos and adds one at the top", async () => {
    const page = await freshPage();
    await logIn(page);
    const items = page.getByRole("list", { name: "Latest todos" }).getByRole("listitem");
    await items.first().waitFor(WAIT);
    assert.ok((await items.count()) >= 3, "the seeded todos are listed");
    assert.match(await page.getByTestId("load-ms").innerText(), /^\d+ ms$/);

    const title = `Buy milk ${Date.now()}`;
    await page.getByLabel("New todo").fill(title);
    await page.getByRole("button", { name: "Add" }).click();
    await eventually(() => items.first().innerText(), (t) => t.includes(title), "first todo after adding");

    // It is stored by the service, not only shown: a fresh load still has it on top.
    await page.reload();
    await eventually(() => items.first().innerText(), (t) => t.includes(title), "first todo after reload");
    assert.equal(await page.getByTestId("load-error").count(), 0, "no load error is shown");
    await shot(page, "todos");

    // Usable at phone width: nothing sticks out sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    assert.equal(await horizontalOverflow(page), 0, "no horizontal scrolling at 390 px");
    await shot(page, "todos-phone");
    await page.context().close();
  });

  test("auto-refresh reloads the list every 2 s and can be paused", async () => {
    const page = await freshPage();
    await logIn(page);
    let loads = 0;
    page.on("request", (r) => {
      if (r.method() === "GET" && new URL(r.url()).pathname === "/api/todos") loads++;
    });
    await eventually(() => loads, (n) => n >= 2, "loads while auto-refresh is on");

    const toggle = page.getByLabel(/Auto-refresh/);
    await toggle.uncheck();
    await page.waitForTimeout(500); // a load already on its way may still land
    const paused = loads;
    await page.waitForTimeout(5000); // two and a half refresh periods
    assert.equal(loads, paused, "no loads while paused");

    await toggle.check();
    await eventually(() => loads, (n) => n > paused, "loads after resuming");
    await page.context().close();
  });
});

describe("the dashboard", () => {
  test("shows the pool mode and numbers that change after requests are made", async () => {
    const page = await freshPage();
    await page.goto("/dashboard");
    const mode = await eventually(() => page.getByTestId("pool-mode").innerText(), (m) => m !== "unknown", "pool mode");
    assert.ok(["shared", "isolated"].includes(mode), `pool mode is ${mode}`);
    const total = async () => Number(await page.getByTestId("total-list_todos").innerText()) || 0;
    const before = await eventually(total, (n) => Number.isFinite(n), "list_todos total");

    // Requests through the UI's own proxy, with the demo user's cookie.
    const user = await freshPage();
    await logIn(user);
    for (let i = 0; i < 5; i++) assert.equal((await user.request.get("/api/todos")).status(), 200);

    await eventually(total, (n) => n >= before + 5, "list_todos total after 5 more requests");
    const row = page.getByTestId("endpoint-list_todos");
    const p95 = await eventually(
      async () => (await row.locator("td").nth(2).innerText()).trim(),
      (v) => /^\d+(\.\d+)?$/.test(v),
      "list_todos p95 over the last 5 s",
    );
    assert.ok(Number(p95) > 0, `p95 ${p95} ms is positive`);
    // A few seconds of light traffic, so the screenshot's charts have lines to show.
    for (let i = 0; i < 20; i++) {
      await user.request.get(i % 4 === 0 ? "/api/todos?limit=100" : "/api/todos");
      await page.waitForTimeout(300);
    }
    await shot(page, "dashboard");
    await page.setViewportSize({ width: 390, height: 844 });
    assert.equal(await horizontalOverflow(page), 0, "no horizontal scrolling at 390 px");
    await user.context().close();
    await page.context().close();
  });
});

describe("the recorder (scripts/record-ui.mjs)", () => {
  /** Records into a fresh folder for `seconds`, or until SIGTERM after `stopAfterMs` (as the runner stops it). */
  async function record(seconds, stopAfterMs) {
    const out = await mkdtemp(join(tmpdir(), "record-ui-"));
    const script = join(WEB_DIR, "scripts", "record-ui.mjs");
    const args = [script, "--base-url", lab.baseUrl, "--out", out, "--seconds", String(seconds), "--frame-ms", "1000"];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"] });
    let stopped = null;
    if (stopAfterMs) {
      setTimeout(() => {
        stopped = Date.now();
        child.kill("SIGTERM");
      }, stopAfterMs);
    }
    const code = await new Promise((ok) => child.on("exit", ok));
    return { out, code, exitedAfterStopMs: stopped && Date.now() - stopped };
  }

  /** The frames of `dir`: name, mtime (ms) and bytes. */
  async function frames(out, dir) {
    const names = (await readdir(join(out, dir))).filter((f) => /^frame-\d{5}\.png$/.test(f)).sort();
    return Promise.all(
      names.map(async (name) => ({ name, t: (await stat(join(out, dir, name))).mtimeMs, bytes: await readFile(join(out, dir, name)) })),
    );
  }

  test("saves frames of both pages and a timeline of the todos requests, then exits by itself", async () => {
    const { out, code } = await record(8);
    try {
      assert.equal(code, 0);
      for (const dir of ["ui", "dashboard"]) {
        const saved = await frames(out, dir);
        assert.ok(saved.length >= 3, `${dir}: ${saved.length} frames`);
      }
      const timeline = (await readFile(join(out, "ui-timeline.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
      const loads = timeline.filter((e) => e.kind === "load");
      const adds = timeline.filter((e) => e.kind === "add");
      assert.ok(loads.length >= 2, `${loads.length} loads recorded`);
      assert.ok(adds.length >= 1, `${adds.length} adds recorded`);
      for (const e of timeline) {
        assert.deepEqual(Object.keys(e).sort(), ["error", "kind", "ms", "ok", "status", "t"]);
        assert.ok(e.ok && e.status >= 200 && e.status < 300 && e.error === null, JSON.stringify(e));
        assert.ok(e.ms >= 0 && Math.abs(e.t - Date.now()) < 120_000, JSON.stringify(e));
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  test("stopped by SIGTERM, it draws the dashboard as it was at each frame's time and exits 0", async () => {
    const { out, code, exitedAfterStopMs } = await record(60, 8000);
    try {
      assert.equal(code, 0);
      assert.ok(exitedAfterStopMs < 20_000, `exited ${exitedAfterStopMs} ms after SIGTERM`);
      const [ui, dashboard] = [await frames(out, "ui"), await frames(out, "dashboard")];
      assert.ok(dashboard.length >= 5, `${dashboard.length} dashboard frames`);
      // Each dashboard frame carries its own moment (that of the todos frame of the same name, at
      // least a frame-ms after the last), not the time it was drawn, and shows the readings up to
      // then: the clock in its header moves on.
      const drawn = new Map(dashboard.map((f) => [f.name, f.t]));
      for (const f of ui) assert.ok(Math.abs(drawn.get(f.name) - f.t) < 2, `${f.name}: ${drawn.get(f.name)} vs ${f.t}`);
      for (let i = 1; i < dashboard.length; i++) {
        assert.ok(dashboard[i].t - dashboard[i - 1].t >= 998, `${dashboard[i].name} a frame-ms after the last`);
      }
      assert.ok(!dashboard.at(-1).bytes.equals(dashboard.at(-3).bytes), "later frames show newer readings");
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe("when the service dies", () => {
  test("the todos page and the dashboard show the error and keep the last data", async () => {
    const todos = await freshPage();
    await logIn(todos);
    const items = todos.getByRole("list", { name: "Latest todos" }).getByRole("listitem");
    await items.first().waitFor(WAIT);
    const dashboard = await todos.context().newPage();
    await dashboard.goto("/dashboard");
    // Two scrapes make the first chart point; then there is data to keep on screen.
    await eventually(() => dashboard.getByTestId("cpu").innerText(), (v) => v !== "–", "first CPU reading");

    await lab.killService();

    // Auto-refresh runs into the dead service: the error shows, the list stays.
    const loadError = todos.getByTestId("load-error");
    await loadError.waitFor(WAIT);
    assert.match(await loadError.innerText(), /502 upstream unreachable/);
    assert.ok((await items.count()) >= 3, "the last loaded list is still shown");
    await shot(todos, "todos-service-down");

    const metricsError = dashboard.getByTestId("metrics-error");
    await metricsError.waitFor(WAIT);
    assert.match(await metricsError.innerText(), /502 metrics unreachable/);
    assert.notEqual(await dashboard.getByTestId("pool-mode").innerText(), "unknown", "the last known data stays");
    await shot(dashboard, "dashboard-service-down");
    await todos.context().close();
  });
});

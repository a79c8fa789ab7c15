// Starts the whole lab for the browser tests and takes it down again:
// Postgres (scripts/pg.sh unless E2E_ADMIN_DATABASE_URL / DATABASE_URL names a server),
// a fresh database with a random name, the seeded todo service on free ports,
// the lab's Prometheus (scripts/prometheus.sh, LAB_PROM_* respected) scraping that service,
// and `next start` of the existing production build pointed at both.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_DIR = resolve(WEB_DIR, "..");
export const RESULTS_DIR = join(WEB_DIR, "test-results");

const log = (msg) => console.error(`[lab] ${msg}`);

/** The service binary: TODO_SERVICE_BIN (relative paths from the repo root) or the release build. */
export function serviceBinary() {
  return resolve(REPO_DIR, process.env.TODO_SERVICE_BIN ?? "target/release/todo-service");
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: "utf8", ...options });
  if (result.status !== 0) {
    const why = result.error?.message ?? (result.stderr?.trim() || "see its output above");
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${result.status}): ${why}`);
  }
  return result.stdout.trim();
}

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** Resolves with the first stdout lines matching each pattern, or rejects on exit/timeout. */
function waitForLines(child, patterns, timeoutMs, what) {
  return new Promise((ok, fail) => {
    const found = new Array(patterns.length).fill(null);
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => fail(new Error(`${what}: no ${patterns.join(" / ")} within ${timeoutMs} ms`)), timeoutMs);
    lines.on("line", (line) => {
      patterns.forEach((p, i) => {
        const m = found[i] === null && p.exec(line);
        if (m) found[i] = m[1];
      });
      if (found.every((f) => f !== null)) {
        clearTimeout(timer);
        ok(found);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`${what} exited (${code}) before it was ready; see ${RESULTS_DIR}`));
    });
  });
}

async function waitForHttp(url, timeoutMs, what, ready = (status) => status < 500) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(2000) });
      if (ready(response.status)) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer at ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Logs a child's output into test-results/<name>.log (kept as a test artifact). */
function capture(child, name) {
  const out = createWriteStream(join(RESULTS_DIR, `${name}.log`));
  child.stderr?.pipe(out);
  child.stdout?.on("data", (chunk) => out.write(chunk));
}

/**
 * Starts the lab's Prometheus unless it runs (stopping it again at the end if so), registers the
 * service's metrics listener as the todo-service target (unregistered at the end) and returns
 * Prometheus's URL. The exporter it starts watches the same Postgres server as the tests.
 */
function startPrometheus(adminUrl, metricsHostPort, cleanups) {
  const prom = join(REPO_DIR, "scripts", "prometheus.sh");
  const options = { env: { ...process.env, DATABASE_URL: adminUrl }, stdio: ["ignore", "pipe", "inherit"] };
  const wasRunning = spawnSync(prom, ["status"], options).status === 0;
  log("starting Prometheus (scripts/prometheus.sh start)");
  run(prom, ["start"], options);
  if (!wasRunning) cleanups.push(() => run(prom, ["stop"], options));
  run(prom, ["register", "todo-service", metricsHostPort, "source=web-e2e"], options);
  cleanups.push(() => run(prom, ["unregister", "todo-service"], options));
  return run(prom, ["url"], options);
}

export async function startLab() {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const bin = serviceBinary();
  if (!existsSync(bin)) {
    throw new Error(`todo-service binary not found at ${bin}: build it first (cargo build --release -p todo-service) or set TODO_SERVICE_BIN`);
  }
  if (!existsSync(join(WEB_DIR, ".next", "BUILD_ID"))) {
    throw new Error("no production build in web/.next: run `npm run build` in web/ first");
  }

  const children = [];
  const cleanups = [];
  const stop = async () => {
    for (const child of children.reverse()) await stopChild(child);
    for (const cleanup of cleanups.reverse()) {
      try {
        cleanup();
      } catch (err) {
        log(`cleanup failed: ${err.message}`);
      }
    }
  };
  // If the test process dies without running `after`, don't leave servers behind.
  process.once("exit", () => children.forEach((c) => c.exitCode === null && c.kill("SIGKILL")));

  try {
    // 1. Postgres and a fresh database.
    let adminUrl = process.env.E2E_ADMIN_DATABASE_URL ?? process.env.DATABASE_URL;
    if (!adminUrl) {
      const pg = join(REPO_DIR, "scripts", "pg.sh");
      const wasRunning = spawnSync(pg, ["status"]).status === 0;
      log("starting Postgres (scripts/pg.sh start)");
      run(pg, ["start"], { stdio: ["ignore", "pipe", "inherit"] });
      if (!wasRunning) cleanups.push(() => run(pg, ["stop"], { stdio: ["ignore", "pipe", "inherit"] }));
      adminUrl = run(pg, ["url"]);
    }
    const dbName = `web_e2e_${randomBytes(5).toString("hex")}`;
    const dbUrl = new URL(adminUrl);
    dbUrl.pathname = `/${dbName}`;
    log(`creating database ${dbName}`);
    run("psql", [adminUrl, "-v", "ON_ERROR_STOP=1", "-qc", `create database ${dbName}`]);
    cleanups.push(() => run("psql", [adminUrl, "-qc", `drop database if exists ${dbName} with (force)`]));

    // 2. Seed with cheap Argon2: the tests are about the UI, not hashing cost.
    const env = { ...process.env, DATABASE_URL: dbUrl.href, ARGON2_MEMORY_KIB: "1024", ARGON2_ITERATIONS: "1" };
    log("seeding");
    run(bin, ["seed", "--users", "5", "--todos-per-user", "3"], { env });

    // 3. The service on free ports; it prints where it listens.
    const service = spawn(bin, ["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(service);
    capture(service, "todo-service");
    const [apiAddr, metricsAddr] = await waitForLines(
      service,
      [/listening on (http:\/\/\S+)/, /metrics on (http:\/\/\S+)/],
      30_000,
      "todo-service",
    );
    log(`service at ${apiAddr}, metrics at ${metricsAddr}`);

    // 4. Prometheus scraping it: the dashboard reads the service through Prometheus only.
    const prometheusUrl = startPrometheus(adminUrl, new URL(metricsAddr).host, cleanups);

    // 5. The production build of the UI on a free port.
    const port = await freePort();
    const next = spawn(
      process.execPath,
      [join(WEB_DIR, "node_modules", "next", "dist", "bin", "next"), "start", "-H", "127.0.0.1", "-p", String(port)],
      {
        cwd: WEB_DIR,
        env: {
          ...process.env,
          API_URL: apiAddr,
          METRICS_URL: `${metricsAddr.replace(/\/$/, "")}/metrics`,
          PROMETHEUS_URL: prometheusUrl,
          NEXT_TELEMETRY_DISABLED: "1",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    children.push(next);
    capture(next, "next");
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${baseUrl}/login`, 60_000, "next start");
    log(`UI at ${baseUrl}`);
    // Prometheus picks a new target up within a few seconds (file discovery); until its first
    // scrape the dashboard has nothing to show, so the tests start after it.
    await waitForHttp(`${baseUrl}/dashboard/metrics`, 30_000, "the dashboard's first reading", (status) => status === 200);

    return {
      baseUrl,
      apiUrl: apiAddr,
      metricsUrl: metricsAddr,
      /** Kills the service abruptly, as a crash would. */
      killService: () => stopChild(service, "SIGKILL"),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function stopChild(child, signal = "SIGTERM") {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((ok) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(force);
      ok();
    });
    child.kill(signal);
  });
}

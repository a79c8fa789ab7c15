// check-dashboard.mjs against a stand-in Prometheus (node:http on port 0).
// Run: node --test monitoring/
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { promisify } from "node:util";
import { SOURCES, readDashboard } from "./dashboard-queries.mjs";
import { check, main, parseDuration, parseTime, report } from "./check-dashboard.mjs";

/** What the stand-in answers per metric name found in a query: a list of series' values. */
const SERIES = {
  present_total: [["1", "2"]],
  only_nan: [["NaN", "NaN"]],
  above_top_bucket: [["NaN", "+Inf"]],
};

/** The queries the stand-in was asked, in order. */
let asked = /** @type {string[]} */ ([]);

const server = createServer((request, response) => {
  /** @param {number} status @param {object} body */
  const answer = (status, body) => {
    response.writeHead(status, { "Content-Type": "application/json" });
    response.end(JSON.stringify(body));
  };
  if (request.method === "GET") return answer(200, { status: "success", data: { version: "stand-in" } });
  let form = "";
  request.on("data", (chunk) => (form += chunk));
  request.on("end", () => {
    const query = new URLSearchParams(form).get("query") ?? "";
    asked.push(query);
    if (query.includes("syntax(")) {
      return answer(400, { status: "error", errorType: "bad_data", error: "parse error at char 7" });
    }
    const result = Object.entries(SERIES)
      .filter(([name]) => query.includes(name))
      .flatMap(([, series]) => series.map((values) => ({ metric: {}, values: values.map((v, i) => [1 + i, v]) })));
    answer(200, { status: "success", data: { resultType: "matrix", result } });
  });
});

let prometheus = "";
before(async () => {
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const address = server.address();
  prometheus = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});
after(() => server.close());
beforeEach(() => {
  asked = [];
});

/**
 * @param {string} title
 * @param {string | null} source
 * @param {...string} exprs
 */
function panel(title, source, ...exprs) {
  return {
    type: "timeseries",
    title,
    description: source ? `Source: ${source}. What it shows.` : "What it shows.",
    targets: exprs.map((expr, i) => ({ refId: String.fromCharCode(65 + i), expr })),
  };
}

/** @param {...object} panels @returns {string} the dashboard file's path */
function writeDashboard(...panels) {
  const path = join(mkdtempSync(join(tmpdir(), "check-dashboard-")), "dashboard.json");
  const variables = [
    { type: "datasource", name: "datasource" },
    { type: "query", name: "instance", includeAll: true, allValue: ".*" },
  ];
  writeFileSync(path, JSON.stringify({ panels, templating: { list: variables } }));
  return path;
}

/** @param {object} raw */
const dashboardOf = (raw) => readDashboard(/** @type {import("./dashboard-queries.mjs").GrafanaDashboard} */ (raw));

/** Collects what main writes. */
function io() {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    stdout: { write: (/** @type {string} */ text) => (out.stdout += text) },
    stderr: { write: (/** @type {string} */ text) => (out.stderr += text) },
  };
}

const WINDOW = { start: 1000, end: 1300, step: 1, scrapeInterval: 1 };
const ALL_SOURCES = new Set(SOURCES);

describe("check", () => {
  it("names a panel whose query returns nothing and fails", async () => {
    const dashboard = dashboardOf({
      panels: [
        panel("Good", "todo-service", 'rate(present_total{instance=~"$instance"}[$__rate_interval])'),
        panel("Misspelt", "todo-service", "rate(absent_total[$__rate_interval])"),
        panel("Empty quantile", "todo-service", "only_nan"),
      ],
      templating: { list: [{ type: "query", name: "instance", includeAll: true }] },
    });
    const outcomes = await check(dashboard, prometheus, WINDOW, {}, ALL_SOURCES);
    assert.deepEqual(
      outcomes.map((o) => [o.panel.title, o.status, o.detail]),
      [
        ["Good", "ok", ""],
        ["Misspelt", "no data", "no series"],
        ["Empty quantile", "no data", "only NaN points"],
      ],
    );
    assert.equal(asked[0], 'rate(present_total{instance=~".*"}[4s])');
    const { text, passed } = report(outcomes);
    assert.equal(passed, false);
    assert.ok(text.includes("FAILED: 2 panel(s) without data or with a failing query: Misspelt; Empty quantile"), text);
  });

  it("counts an infinite point as data, as prometheus-api.mjs reads it (a quantile above the top bucket)", async () => {
    const dashboard = dashboardOf({ panels: [panel("Slow quantile", "todo-service", "above_top_bucket")] });
    const outcomes = await check(dashboard, prometheus, WINDOW, {}, ALL_SOURCES);
    assert.deepEqual(
      outcomes.map((o) => [o.panel.title, o.status]),
      [["Slow quantile", "ok"]],
    );
  });

  it("lists the panels of an absent source as needing it, without querying them", async () => {
    const dashboard = dashboardOf({
      panels: [panel("Service", "todo-service", "present_total"), panel("k6 latency", "k6", "k6_http_req_duration_seconds")],
    });
    const outcomes = await check(dashboard, prometheus, WINDOW, {}, new Set(["todo-service"]));
    assert.deepEqual(
      outcomes.map((o) => [o.panel.title, o.status]),
      [
        ["Service", "ok"],
        ["k6 latency", "needs source"],
      ],
    );
    assert.deepEqual(asked, ["present_total"]);
    const { text, passed } = report(outcomes);
    assert.equal(passed, true);
    assert.ok(text.includes("NEEDS SOURCE  k6 latency [A]: not checked, k6 is not among --sources"), text);
    assert.ok(text.includes("1 of 1 checked queries returned data; 1 not checked, needing k6"), text);
  });

  it("reports a panel without a declared source and a refused query as errors", async () => {
    const dashboard = dashboardOf({
      panels: [panel("Anonymous", null, "present_total"), panel("Broken", "postgres", "syntax((")],
    });
    const outcomes = await check(dashboard, prometheus, WINDOW, {}, ALL_SOURCES);
    assert.deepEqual(
      outcomes.map((o) => [o.panel.title, o.status]),
      [
        ["Anonymous", "error"],
        ["Broken", "error"],
      ],
    );
    assert.ok(outcomes[0].detail.includes("Source: <todo-service|postgres|latency-proxy|k6>."));
    assert.equal(outcomes[1].detail, "parse error at char 7");
  });
});

describe("the command", () => {
  it("exits 1 naming the panel without data, and 0 when all have data", async () => {
    const bad = writeDashboard(panel("Misspelt", "todo-service", "absent_total"));
    const failing = io();
    assert.equal(await main(["--prometheus", prometheus, "--dashboard", bad, "--start", "1000", "--end", "1300"], failing), 1);
    assert.ok(failing.out.stdout.includes("NO DATA       Misspelt [A]: no series"), failing.out.stdout);
    const good = writeDashboard(panel("Good", "todo-service", "present_total"));
    assert.equal(await main(["--prometheus", prometheus, "--dashboard", good, "--last", "5m"], io()), 0);
  });

  it("exits 2 when Prometheus does not answer", async () => {
    // A port that was just free (fetch refuses low ports like 1 outright, which would test less).
    const closed = createServer();
    await new Promise((resolve) => closed.listen(0, "127.0.0.1", () => resolve(undefined)));
    const address = closed.address();
    await new Promise((resolve) => closed.close(() => resolve(undefined)));
    const run = io();
    const port = typeof address === "object" && address ? address.port : 0;
    assert.equal(await main(["--prometheus", `http://127.0.0.1:${port}`, "--last", "5m"], run), 2);
    assert.ok(run.out.stderr.includes("Prometheus does not answer"), run.out.stderr);
    assert.ok(run.out.stderr.includes("ECONNREFUSED"), run.out.stderr);
  });

  it("exits 2 on bad arguments, saying which", async () => {
    for (const [argv, words] of [
      [[], "one of the arguments --last --start is required"],
      [["--last", "5m", "--start", "1"], "not allowed with argument --last"],
      [["--start", "1000"], "--start needs --end"],
      [["--last", "5x"], "argument --last: '5x' is not a duration"],
      [["--last", "5m", "--var", "instance"], "argument --var: 'instance' is not NAME=VALUE"],
      [["--last", "5m", "--sources", "k6,nope"], "unknown source(s) nope"],
    ]) {
      const run = io();
      assert.equal(await main(/** @type {string[]} */ (argv), run), 2, String(argv));
      assert.ok(run.out.stderr.includes(String(words)), run.out.stderr);
    }
  });

  it("exits 2 for a variable the dashboard lacks and for an empty range", async () => {
    const good = writeDashboard(panel("Good", "todo-service", "present_total"));
    const unknown = io();
    assert.equal(await main(["--prometheus", prometheus, "--dashboard", good, "--last", "5m", "--var", "nope=1"], unknown), 2);
    assert.ok(unknown.out.stderr.includes("the dashboard has no variable nope"), unknown.out.stderr);
    const empty = io();
    assert.equal(await main(["--prometheus", prometheus, "--dashboard", good, "--start", "10", "--end", "10"], empty), 2);
    assert.ok(empty.out.stderr.includes("the range is empty"), empty.out.stderr);
  });

  it("runs from the command line with its exit status", async () => {
    const bad = writeDashboard(panel("Misspelt", "todo-service", "absent_total"));
    const script = new URL("check-dashboard.mjs", import.meta.url).pathname;
    const run = promisify(execFile)(process.execPath, [script, "--prometheus", prometheus, "--dashboard", bad, "--last", "5m"]);
    await assert.rejects(run, (/** @type {any} */ err) => err.code === 1 && err.stdout.includes("Misspelt [A]"));
  });
});

describe("arguments", () => {
  it("takes times as unix seconds or ISO 8601 with an offset", () => {
    assert.equal(parseTime("1700000000"), 1700000000);
    assert.equal(parseTime("2023-11-14T22:13:20Z"), 1700000000);
    assert.equal(parseTime("2023-11-14T23:13:20.5+01:00"), 1700000000.5);
    assert.throws(() => parseTime("2023-11-14T22:13:20"), /no UTC offset/);
    assert.throws(() => parseTime("2023-13-14T22:13:20Z"), /neither unix seconds nor an ISO 8601 time/);
    assert.throws(() => parseTime(""), /neither/);
  });

  it("takes durations with a unit", () => {
    assert.equal(parseDuration("10m"), 600);
    assert.equal(parseDuration("500ms"), 0.5);
    assert.throws(() => parseDuration("10"), /not a duration/);
  });
});

// dashboard-queries.mjs against the real dashboard JSON and small hand-made ones.
// Run: node --test monitoring/
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  ALL,
  DashboardError,
  intervalValues,
  promRegexLiteral,
  queriesByRefId,
  rateInterval,
  readDashboard,
  substitute,
  templateValues,
} from "./dashboard-queries.mjs";

const LAB = readDashboard(JSON.parse(readFileSync(new URL("grafana/dashboards/todo-lab.json", import.meta.url), "utf8")));
const WINDOW = { start: 1000, end: 1300, step: 1, scrapeInterval: 1 };

describe("the lab's dashboard", () => {
  it("declares a known source for every panel and uses every refId once", () => {
    assert.ok(LAB.panels.length > 0);
    assert.deepEqual(LAB.panels.filter((p) => p.source === null).map((p) => p.title), []);
    const refIds = LAB.panels.flatMap((p) => p.targets.map((t) => t.refId));
    assert.equal(new Set(refIds).size, refIds.length, "the web UI picks queries by refId");
    assert.deepEqual(new Set(LAB.variables.map((v) => v.name)), new Set(["instance", "testid"]));
  });

  it("has all the variables of every query filled in", () => {
    const values = { ...templateValues(LAB, {}), ...intervalValues(WINDOW) };
    for (const p of LAB.panels) {
      for (const t of p.targets) assert.ok(!substitute(t.expr, values).includes("$"), `${p.title} [${t.refId}]`);
    }
  });
});

describe("readDashboard", () => {
  it("finds panels inside collapsed rows, skips targets without a query and keeps duplicates apart", () => {
    const dashboard = readDashboard({
      panels: [
        { title: "Up", description: "Source: todo-service. Up.", targets: [{ refId: "A", expr: "up" }] },
        { title: "Row", panels: [{ id: 7, targets: [{ refId: "A", expr: "vector(1)" }, { refId: "B" }] }] },
      ],
    });
    assert.deepEqual(
      dashboard.panels.map((p) => [p.title, p.source]),
      [
        ["Up", "todo-service"],
        ["panel 7", null],
      ],
    );
    const queries = queriesByRefId(dashboard);
    assert.deepEqual(queries.get("A"), ["up", "vector(1)"]);
    assert.equal(queries.has("B"), false);
  });

  it("takes only the template variables whose value goes into a query", () => {
    const dashboard = readDashboard({
      templating: {
        list: [
          { type: "datasource", name: "datasource" },
          { type: "query", name: "instance", includeAll: true },
          { type: "custom", name: "mode", multi: true },
          { type: "constant", name: "plain" },
        ],
      },
    });
    assert.deepEqual(dashboard.variables, [
      { name: "instance", escaped: true },
      { name: "mode", escaped: true },
      { name: "plain", escaped: false },
    ]);
  });
});

describe("variable values", () => {
  it("makes the rate interval four scrapes until the step is wider", () => {
    assert.equal(rateInterval({ start: 0, end: 300, step: 1, scrapeInterval: 1 }), 4);
    assert.equal(rateInterval({ start: 0, end: 86400, step: 60, scrapeInterval: 1 }), 61);
    const values = intervalValues({ start: 0, end: 600, step: 2, scrapeInterval: 1 });
    assert.equal(values.__rate_interval, "4s");
    assert.equal(values.__interval, "2s");
    assert.equal(values.__range, "600s");
    assert.equal(intervalValues({ start: 0, end: 1, step: 0.25, scrapeInterval: 0.5 }).__interval, "250ms");
  });

  it("regex-escapes a chosen value like Grafana does for an All variable, and sends All otherwise", () => {
    const dashboard = {
      panels: [],
      variables: [
        { name: "instance", escaped: true },
        { name: "plain", escaped: false },
      ],
    };
    const values = templateValues(dashboard, { instance: "127.0.0.1:9090", plain: "a.b" });
    assert.equal(values.instance, "127\\\\.0\\\\.0\\\\.1:9090");
    assert.equal(values.plain, "a.b");
    assert.equal(templateValues(dashboard, {}).instance, ALL);
  });

  it("refuses a variable the dashboard does not have", () => {
    assert.throws(() => templateValues({ panels: [], variables: [] }, { nope: "x" }), {
      name: "DashboardError",
      message: "the dashboard has no variable nope",
    });
  });

  it("escapes regex metacharacters twice, for a PromQL string", () => {
    assert.equal(promRegexLiteral("127.0.0.1:9090"), "127\\\\.0\\\\.0\\\\.1:9090");
    assert.equal(promRegexLiteral("[::1]:80"), "\\\\[::1\\\\]:80");
  });
});

describe("substitute", () => {
  it("fills in every Grafana spelling of a variable", () => {
    const values = { instance: "i", __rate_interval: "4s" };
    assert.equal(
      substitute('x{a=~"$instance",b=~"${instance}",c="[[instance]]"}[${__rate_interval:raw}]', values),
      'x{a=~"i",b=~"i",c="i"}[4s]',
    );
  });

  it("refuses a variable it has no value for", () => {
    assert.throws(() => substitute('x{t=~"$testid"}', { instance: "i" }), (err) => {
      assert.ok(err instanceof DashboardError);
      assert.match(err.message, /\$testid/);
      return true;
    });
  });
});

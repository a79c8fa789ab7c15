import { describe, expect, it } from "vitest";
import dashboard from "../../../monitoring/grafana/dashboards/todo-lab.json";
import { REF_IDS, panelQuery, promRegexLiteral, queriesByRefId, substitute } from "./panel-queries";

describe("the Grafana dashboard the UI reads its queries from", () => {
  it("has exactly one query for every refId the UI uses", () => {
    const queries = queriesByRefId(dashboard);
    for (const refId of REF_IDS) expect(queries.get(refId), refId).toHaveLength(1);
  });

  it("gives queries whose every variable the UI fills in", () => {
    for (const refId of REF_IDS) {
      expect(panelQuery(refId, { instance: "127.0.0.1:9090", rateInterval: "5s" })).not.toContain("$");
    }
  });

  it("selects the service by job and instance in every query the UI runs", () => {
    for (const refId of REF_IDS) {
      const q = panelQuery(refId, { instance: "127.0.0.1:9090", rateInterval: "5s" });
      expect(q).toContain('job="todo-service", instance=~"127\\\\.0\\\\.0\\\\.1:9090"');
    }
  });
});

describe("queriesByRefId", () => {
  it("finds queries inside collapsed rows too, and keeps duplicates apart", () => {
    const queries = queriesByRefId({
      panels: [
        { targets: [{ refId: "A", expr: "up" }] },
        { panels: [{ targets: [{ refId: "A", expr: "vector(1)" }, { refId: "B" }] }] },
      ],
    });
    expect(queries.get("A")).toEqual(["up", "vector(1)"]);
    expect(queries.has("B")).toBe(false);
  });
});

describe("substitute", () => {
  it("fills in $name and ${name}", () => {
    expect(substitute("rate(x{i=~\"$instance\"}[${__rate_interval}])", { instance: "a", __rate_interval: "5s" })).toBe(
      'rate(x{i=~"a"}[5s])',
    );
  });
  it("refuses a variable it has no value for", () => {
    expect(() => substitute("x{t=~\"$testid\"}", {})).toThrow(/\$testid/);
  });
});

describe("promRegexLiteral", () => {
  it("escapes regex metacharacters twice, for a PromQL string", () => {
    expect(promRegexLiteral("127.0.0.1:9090")).toBe("127\\\\.0\\\\.0\\\\.1:9090");
    expect(promRegexLiteral("[::1]:80")).toBe("\\\\[::1\\\\]:80");
  });
});

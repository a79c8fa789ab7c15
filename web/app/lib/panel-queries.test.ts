import { describe, expect, it } from "vitest";
import { queriesByRefId, readDashboard } from "../../../monitoring/dashboard-queries.mjs";
import dashboard from "../../../monitoring/grafana/dashboards/todo-lab.json";
import { REF_IDS, panelQuery } from "./panel-queries";

// How the dashboard is read and its variables filled in is tested with that code, in
// monitoring/dashboard-queries.test.mjs; here, what the UI needs from the dashboard.
describe("the Grafana dashboard the UI reads its queries from", () => {
  it("has exactly one query for every refId the UI uses", () => {
    const queries = queriesByRefId(readDashboard(dashboard));
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

  it("uses the rate window the UI asks for", () => {
    expect(panelQuery("rps", { instance: "i", rateInterval: "60s" })).toContain("[60s]");
  });
});

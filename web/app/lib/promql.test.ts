import { describe, expect, it } from "vitest";
import { PrometheusError, parseQueryResponse } from "./promql";

describe("parseQueryResponse", () => {
  it("reads an instant vector, NaN and infinities as null", () => {
    const samples = parseQueryResponse({
      status: "success",
      data: {
        resultType: "vector",
        result: [
          { metric: { endpoint: "login" }, value: [1700000000.5, "0.0125"] },
          { metric: { endpoint: "list_todos" }, value: [1700000000.5, "NaN"] },
          { metric: { endpoint: "create_todo" }, value: [1700000000.5, "+Inf"] },
        ],
      },
    });
    expect(samples).toEqual([
      { labels: { endpoint: "login" }, value: 0.0125 },
      { labels: { endpoint: "list_todos" }, value: null },
      { labels: { endpoint: "create_todo" }, value: null },
    ]);
  });

  it("reads a scalar as one sample without labels", () => {
    expect(parseQueryResponse({ status: "success", data: { resultType: "scalar", result: [1, "2"] } })).toEqual([
      { labels: {}, value: 2 },
    ]);
  });

  it("passes Prometheus's own words on when it refused the query", () => {
    const refused = () => parseQueryResponse({ status: "error", errorType: "bad_data", error: "parse error at char 3" });
    expect(refused).toThrow(PrometheusError);
    expect(refused).toThrow("parse error at char 3");
  });

  it("refuses what is not an instant vector", () => {
    expect(() => parseQueryResponse({ status: "success", data: { resultType: "matrix", result: [] } })).toThrow(/matrix/);
    expect(() => parseQueryResponse("<html>")).toThrow(/not a Prometheus API answer/);
  });
});

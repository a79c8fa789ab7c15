// The dashboard route against a stand-in Prometheus on a random port.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ENDPOINTS } from "../../lib/dashboard";
import { GET } from "./route";

let server: Server;
/** What the stand-in says the service's `up` is: no series, a failed scrape, a good one. */
let up: "none" | "0" | "1";
/** Whether the stand-in refuses every query, as Prometheus does a malformed one. */
let refuse: boolean;
const asked: string[] = [];

const vector = (result: unknown[]) => ({ status: "success", data: { resultType: "vector", result } });

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let form = "";
    for await (const chunk of req) form += chunk;
    const query = new URLSearchParams(form).get("query") ?? "";
    asked.push(query);
    res.writeHead(refuse ? 400 : 200, { "content-type": "application/json" });
    if (refuse) return res.end(JSON.stringify({ status: "error", errorType: "bad_data", error: "parse error" }));
    const series = (value: string, metric = {}) => [{ metric, value: [1700000000, value] }];
    if (query.startsWith("up{")) return res.end(JSON.stringify(vector(up === "none" ? [] : series(up))));
    if (query.startsWith("todo_service_info")) {
      return res.end(JSON.stringify(vector(series("1", { pool_mode: "isolated", version: "0.1.0" }))));
    }
    res.end(JSON.stringify(vector([])));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  process.env.PROMETHEUS_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  process.env.METRICS_URL = "http://127.0.0.1:46213/metrics";
});

afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

beforeEach(() => {
  up = "1";
  refuse = false;
  asked.length = 0;
});

describe("/dashboard/metrics", () => {
  it("answers a reading of the service METRICS_URL names", async () => {
    const response = await GET();
    expect(response.status).toBe(200);
    const reading = await response.json();
    expect(reading.poolMode).toBe("isolated");
    expect(Object.keys(reading.endpoints)).toEqual(ENDPOINTS);
    expect(asked.every((q) => q.includes('instance=~"127\\\\.0\\\\.0\\\\.1:46213"'))).toBe(true);
  });

  it("says so when Prometheus has not scraped the service", async () => {
    up = "none";
    const response = await GET();
    expect(response.status).toBe(503);
    const body = await response.json();
    expect(body.error).toBe("metrics_not_scraped");
    expect(body.message).toContain("scripts/prometheus.sh register todo-service 127.0.0.1:46213");
  });

  it("says so when Prometheus cannot scrape the service (it is down)", async () => {
    up = "0";
    const response = await GET();
    expect(response.status).toBe(502);
    expect((await response.json()).error).toBe("metrics_unreachable");
  });

  it("passes on Prometheus's words when it refuses a query", async () => {
    refuse = true;
    const response = await GET();
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ error: "prometheus_error", message: "parse error" });
  });

  it("answers 502 when Prometheus is down", async () => {
    const saved = process.env.PROMETHEUS_URL;
    process.env.PROMETHEUS_URL = "http://127.0.0.1:1"; // nothing listens there
    try {
      const response = await GET();
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({
        error: "prometheus_unreachable",
        message: "Prometheus cannot be reached at http://127.0.0.1:1",
      });
    } finally {
      process.env.PROMETHEUS_URL = saved;
    }
  });
});

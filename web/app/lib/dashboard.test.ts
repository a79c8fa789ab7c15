import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type Answers, ENDPOINTS, assemble, scrapeProblem } from "./dashboard";
import { REF_IDS } from "./panel-queries";
import type { Sample } from "../../../monitoring/prometheus-api.mjs";

const by = (label: string, values: Record<string, number | null>): Sample[] =>
  Object.entries(values).map(([key, value]) => ({ labels: { [label]: key }, value }));
const one = (value: number | null): Sample[] => [{ labels: { instance: "127.0.0.1:9090" }, value }];

/** load/shape.json's endpoints read as the experiment runner reads the file, not through the bundler. */
const SHAPE_ENDPOINTS: string[] = JSON.parse(
  readFileSync(new URL("../../../load/shape.json", import.meta.url), "utf8"),
).endpoints.map((e: { endpoint: string }) => e.endpoint);

/** What Prometheus answers for a shared-mode service that served list_todos and failed some. */
function answers(): Answers {
  const now = Object.fromEntries(REF_IDS.map((refId) => [refId, [] as Sample[]])) as Answers["now"];
  Object.assign(now, {
    up: one(1),
    info: [{ labels: { pool_mode: "shared", version: "0.1.0" }, value: 1 }],
    requestsTotal: by("endpoint", { list_todos: 110 }),
    inFlight: by("endpoint", { list_todos: 2 }),
    p50: by("endpoint", { list_todos: 0.375 }),
    p95: by("endpoint", { list_todos: 0.4875 }),
    rps: by("endpoint", { list_todos: 2 }),
    errorShare: by("endpoint", { list_todos: 0.2 }),
    inUse: by("pool", { shared: 12 }),
    idle: by("pool", { shared: 0 }),
    max: by("pool", { shared: 12 }),
    waiters: by("pool", { shared: 9 }),
    timeoutsRate: by("pool", { shared: 0.4 }),
    timeoutsTotal: by("pool", { shared: 5 }),
    holdMean: by("pool", { shared: 0.015 }),
    cpu: one(0.1),
    rss: one(20 * 2 ** 20),
    tasks: one(42),
  });
  const minute = {
    p50: by("endpoint", { list_todos: 0.004 }),
    p95: by("endpoint", { list_todos: null }),
    rps: by("endpoint", { list_todos: 1.5 }),
    errorShare: by("endpoint", { list_todos: 0 }),
  };
  return { now, minute };
}

describe("ENDPOINTS", () => {
  it("are load/shape.json's endpoints, in its order", () => {
    expect(SHAPE_ENDPOINTS.length).toBeGreaterThan(0);
    expect(ENDPOINTS).toEqual(SHAPE_ENDPOINTS);
  });
});

describe("assemble", () => {
  it("puts each answer where the page shows it, in the page's units", () => {
    const r = assemble(answers(), 15_000);
    expect(r.t).toBe(15_000);
    expect(r.poolMode).toBe("shared");
    expect(r.version).toBe("0.1.0");
    expect(r.endpoints.list_todos).toEqual({
      now: { p50Ms: 375, p95Ms: 487.5, rps: 2, errorShare: 0.2 },
      minute: { p50Ms: 4, p95Ms: null, rps: 1.5, errorShare: 0 },
      requestsTotal: 110,
      inFlight: 2,
    });
    expect(r.pools.shared).toEqual({
      inUse: 12,
      idle: 0,
      max: 12,
      waiters: 9,
      timeoutsPerSec: 0.4,
      timeoutsTotal: 5,
      holdMs: 15,
    });
    expect(r.cpuPercent).toBeCloseTo(10);
    expect(r.memoryMiB).toBe(20);
    expect(r.aliveTasks).toBe(42);
  });

  it("lists the contract's endpoints before their first request, with no latency and no error share", () => {
    const r = assemble(answers(), 0);
    expect(Object.keys(r.endpoints)).toEqual(SHAPE_ENDPOINTS);
    expect(r.endpoints.login).toEqual({
      now: { p50Ms: null, p95Ms: null, rps: 0, errorShare: null },
      minute: { p50Ms: null, p95Ms: null, rps: 0, errorShare: null },
      requestsTotal: 0,
      inFlight: 0,
    });
  });

  it("shows the `other` endpoint only once it answered a request", () => {
    const a = answers();
    a.now.requestsTotal = by("endpoint", { list_todos: 1, other: 0 });
    expect(Object.keys(assemble(a, 0).endpoints)).not.toContain("other");
    a.now.requestsTotal = by("endpoint", { list_todos: 1, other: 3 });
    expect(assemble(a, 0).endpoints.other.requestsTotal).toBe(3);
  });

  it("holds no value where Prometheus says +Inf or -Inf, as JSON has no infinities", () => {
    const a = answers();
    a.now.p95 = by("endpoint", { list_todos: Infinity });
    a.now.holdMean = by("pool", { shared: -Infinity });
    const r = assemble(a, 0);
    expect(r.endpoints.list_todos.now.p95Ms).toBeNull();
    expect(r.pools.shared.holdMs).toBeNull();
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it("survives answers without any series", () => {
    const a = answers();
    for (const refId of REF_IDS) a.now[refId] = [];
    const r = assemble(a, 0);
    expect(r.poolMode).toBeNull();
    expect(r.pools).toEqual({});
    expect(r.cpuPercent).toBeNull();
    expect(r.memoryMiB).toBeNull();
  });
});

describe("scrapeProblem", () => {
  it("says the service was never scraped when `up` has no series", () => {
    expect(scrapeProblem([], "127.0.0.1:9090")).toMatchObject({ status: 503, error: "metrics_not_scraped" });
  });
  it("says the service cannot be scraped when its last scrape failed", () => {
    expect(scrapeProblem(one(0), "127.0.0.1:9090")).toMatchObject({ status: 502, error: "metrics_unreachable" });
  });
  it("has nothing to say about a service scraped fine", () => {
    expect(scrapeProblem(one(1), "127.0.0.1:9090")).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import type { Reading } from "./dashboard";
import { type Answer, INITIAL_STATE, VIEW_MS, applyAnswer } from "./dashboard-state";

const reading = (t: number): Reading => ({
  t, poolMode: "shared", version: "0.1.0", endpoints: {}, pools: {}, cpuPercent: 1, memoryMiB: 10, aliveTasks: 5,
});
const ok = (t: number): Answer => ({ status: 200, statusText: "OK", text: JSON.stringify(reading(t)) });
const t0 = 1_800_000_000_000;

describe("applyAnswer", () => {
  it("adds a reading, keeps a minute of them and clears the last error", () => {
    const failed = applyAnswer(applyAnswer(INITIAL_STATE, ok(t0)), { failure: "TypeError: Failed to fetch" });
    const state = [1000, VIEW_MS, VIEW_MS + 1000].reduce((s, dt) => applyAnswer(s, ok(t0 + dt)), failed);
    expect(state.readings.map((r) => r.t - t0)).toEqual([1000, VIEW_MS, VIEW_MS + 1000]);
    expect(state.error).toBeNull();
    expect(state.lastOk).toBe(t0 + VIEW_MS + 1000);
  });

  it("shows why there is no reading and keeps the data already shown", () => {
    const before = applyAnswer(INITIAL_STATE, ok(t0));
    const body = { error: "metrics_unreachable", message: "Prometheus cannot scrape the service's metrics at x" };
    const state = applyAnswer(before, { status: 502, statusText: "Bad Gateway", text: JSON.stringify(body) });
    expect(state.error).toBe("502 metrics unreachable: Prometheus cannot scrape the service's metrics at x");
    expect(state.readings).toEqual(before.readings);
    expect(state.lastOk).toBe(t0);
  });

  it("puts a missing answer, a body that is not the contract's and a broken reading into words", () => {
    expect(applyAnswer(INITIAL_STATE, { failure: "TimeoutError: signal timed out" }).error).toBe(
      "no answer: TimeoutError: signal timed out",
    );
    expect(applyAnswer(INITIAL_STATE, { status: 500, statusText: "Internal Server Error", text: "<html>" }).error).toBe(
      "500 Internal Server Error",
    );
    const broken = applyAnswer(INITIAL_STATE, { status: 200, statusText: "OK", text: "{" });
    expect(broken.error).toMatch(/^no answer: SyntaxError: /);
    expect(broken.readings).toEqual([]);
  });
});

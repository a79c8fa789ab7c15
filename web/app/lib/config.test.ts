import { describe, expect, it } from "vitest";
import { serviceInstance } from "./config";

describe("serviceInstance", () => {
  it("is the host:port Prometheus scrapes, as its instance label", () => {
    expect(serviceInstance("http://127.0.0.1:46213/metrics")).toBe("127.0.0.1:46213");
    expect(serviceInstance("http://[::1]:9090/metrics")).toBe("[::1]:9090");
  });
  it("spells out the scheme's default port, as Prometheus does", () => {
    expect(serviceInstance("http://metrics.internal/metrics")).toBe("metrics.internal:80");
  });
});

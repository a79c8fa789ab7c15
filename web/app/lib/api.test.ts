import { describe, expect, it } from "vitest";
import { describeError } from "./api";

describe("describeError", () => {
  it("reads the contract's error body", () => {
    expect(describeError(503, { error: "database_busy", message: "try again" })).toBe(
      "503 database busy: try again",
    );
    expect(describeError(401, { error: "invalid_credentials" })).toBe("401 invalid credentials");
  });

  it("falls back to the status text for other bodies", () => {
    expect(describeError(500, "<html>", "Internal Server Error")).toBe("500 Internal Server Error");
    expect(describeError(502, null)).toBe("502 request failed");
  });

  it("says when no answer came at all", () => {
    expect(describeError(null, null, "timed out after 10 s")).toBe("no answer: timed out after 10 s");
  });
});

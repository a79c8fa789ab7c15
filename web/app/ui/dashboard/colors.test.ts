import { describe, expect, it } from "vitest";
import { ENDPOINTS } from "../../lib/dashboard";
import { FALLBACK_COLOR, color } from "./colors";

describe("color", () => {
  it("gives each of load/shape.json's endpoints a colour of its own", () => {
    const colors = ENDPOINTS.map(color);
    expect(colors).not.toContain(FALLBACK_COLOR);
    expect(new Set(colors).size).toBe(ENDPOINTS.length);
  });

  it("draws a name it does not know grey", () => {
    expect(color("no_such_endpoint")).toBe(FALLBACK_COLOR);
  });
});

import { defineConfig } from "vitest/config";

// Unit tests sit beside the code they test; the browser tests in e2e/ run under node --test.
export default defineConfig({
  test: { include: ["app/**/*.test.ts"], environment: "node" },
});

import { describe, expect, it } from "vitest";
import { REF_IDS } from "./panel-queries";
import { queryAll } from "./queries";

describe("queryAll", () => {
  it("asks every query over 5 s and the windowed ones again over a minute, for this instance only", async () => {
    const asked: string[] = [];
    const a = await queryAll(async (expr) => {
      asked.push(expr);
      return [];
    }, "127.0.0.1:9090");
    expect(asked).toHaveLength(REF_IDS.length + 4);
    expect(Object.keys(a.now).sort()).toEqual([...REF_IDS].sort());
    expect(Object.keys(a.minute).sort()).toEqual(["errorShare", "p50", "p95", "rps"]);
    expect(asked.filter((q) => q.includes("[60s]"))).toHaveLength(4);
    for (const q of asked) expect(q).toContain('instance=~"127\\\\.0\\\\.0\\\\.1:9090"');
  });
});

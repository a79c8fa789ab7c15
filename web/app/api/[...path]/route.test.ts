// The same-origin proxy against a stand-in service on a random port.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET, POST } from "./route";

let server: Server;
const seen: { method?: string; url?: string; cookie?: string; body?: string; host?: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, cookie: req.headers.cookie, body, host: req.headers.host });
      if (req.url === "/login") {
        res.writeHead(200, {
          "content-type": "application/json",
          "set-cookie": "session=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=60",
        });
        res.end(JSON.stringify({ token: "abc", expires_at: "2030-01-01T00:00:00Z", user_id: 1 }));
      } else {
        res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
        res.end(JSON.stringify({ error: "database_busy", message: "no connection free" }));
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  process.env.API_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

describe("/api proxy", () => {
  it("forwards method, path, query, body and cookie, and passes Set-Cookie back", async () => {
    const response = await POST(
      new Request("http://ui.test/api/login", {
        method: "POST",
        headers: { "content-type": "application/json", cookie: "session=old" },
        body: JSON.stringify({ email: "demo@lab.test", password: "x" }),
      }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual(["session=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=60"]);
    expect((await response.json()).token).toBe("abc");
    const request = seen.at(-1)!;
    expect(request).toMatchObject({ method: "POST", url: "/login", cookie: "session=old" });
    expect(JSON.parse(request.body!)).toEqual({ email: "demo@lab.test", password: "x" });
    expect(request.host).not.toBe("ui.test");
  });

  it("keeps a 503 database_busy answer as it is, Retry-After included", async () => {
    const response = await GET(new Request("http://ui.test/api/todos?limit=5"));
    expect(seen.at(-1)!.url).toBe("/todos?limit=5");
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await response.json()).toEqual({ error: "database_busy", message: "no connection free" });
  });

  it("answers 502 in the contract's error shape when the service is down", async () => {
    const saved = process.env.API_URL;
    process.env.API_URL = "http://127.0.0.1:1"; // nothing listens there
    try {
      const response = await GET(new Request("http://ui.test/api/todos"));
      expect(response.status).toBe(502);
      expect((await response.json()).error).toBe("upstream_unreachable");
    } finally {
      process.env.API_URL = saved;
    }
  });
});

// prometheus-api.mjs: the answers' parsing, and the client against a stand-in Prometheus.
// Run: node --test monitoring/
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";
import { PrometheusError, instantQuery, parseInstant, parseRange, rangeQuery, sampleValue } from "./prometheus-api.mjs";

/** @param {unknown[]} result */
const vector = (result) => ({ status: "success", data: { resultType: "vector", result } });
/** @param {unknown[]} result */
const matrix = (result) => ({ status: "success", data: { resultType: "matrix", result } });

/**
 * Asserts that `run` throws a PrometheusError of `kind` whose message matches `message`.
 * @param {() => unknown} run
 * @param {string} kind
 * @param {RegExp} message
 */
function throwsPrometheusError(run, kind, message) {
  assert.throws(run, (err) => err instanceof PrometheusError && err.kind === kind && message.test(err.message));
}

describe("sampleValue", () => {
  it("reads decimals as numbers", () => {
    assert.equal(sampleValue("0.0125"), 0.0125);
    assert.equal(sampleValue("-3"), -3);
    assert.equal(sampleValue("1e-05"), 0.00001);
    assert.equal(sampleValue("0"), 0);
  });

  it("reads +Inf and -Inf as infinities, values the caller decides how to show", () => {
    assert.equal(sampleValue("+Inf"), Infinity);
    assert.equal(sampleValue("-Inf"), -Infinity);
  });

  it("reads NaN as no value", () => {
    assert.equal(sampleValue("NaN"), null);
  });

  it("refuses what Prometheus never writes", () => {
    for (const text of ["", " ", "abc", "Infinity", "0x10", "1.5x", "inf", 1.5, null, undefined]) {
      throwsPrometheusError(() => sampleValue(text), "failed", /is not a sample value/);
    }
  });
});

describe("parseInstant", () => {
  it("reads an instant vector by the one rule: numbers, infinities, NaN as null", () => {
    const samples = parseInstant(
      vector([
        { metric: { endpoint: "login" }, value: [1700000000.5, "0.0125"] },
        { metric: { endpoint: "list_todos" }, value: [1700000000.5, "NaN"] },
        { metric: { endpoint: "create_todo" }, value: [1700000000.5, "+Inf"] },
        { metric: { endpoint: "other" }, value: [1700000000.5, "-Inf"] },
      ]),
    );
    assert.deepEqual(samples, [
      { labels: { endpoint: "login" }, value: 0.0125 },
      { labels: { endpoint: "list_todos" }, value: null },
      { labels: { endpoint: "create_todo" }, value: Infinity },
      { labels: { endpoint: "other" }, value: -Infinity },
    ]);
  });

  it("reads an empty vector as no samples", () => {
    assert.deepEqual(parseInstant(vector([])), []);
  });

  it("reads a scalar as one sample without labels", () => {
    assert.deepEqual(parseInstant({ status: "success", data: { resultType: "scalar", result: [1, "2"] } }), [
      { labels: {}, value: 2 },
    ]);
  });

  it("passes Prometheus's own words on when it refused the query", () => {
    const refused = { status: "error", errorType: "bad_data", error: "parse error at char 3" };
    throwsPrometheusError(() => parseInstant(refused), "failed", /^parse error at char 3$/);
  });

  it("refuses what is not an instant vector", () => {
    throwsPrometheusError(() => parseInstant(matrix([])), "failed", /got matrix/);
    throwsPrometheusError(() => parseInstant("<html>"), "failed", /not a Prometheus API answer/);
    throwsPrometheusError(() => parseInstant({ status: "success" }), "failed", /no data/);
    const histogram = vector([{ metric: {}, histogram: [1, { count: "3" }] }]);
    throwsPrometheusError(() => parseInstant(histogram), "failed", /native histogram/);
  });
});

describe("parseRange", () => {
  it("reads float points by the one rule, and counts native-histogram points", () => {
    const series = parseRange(
      matrix([
        { metric: { endpoint: "login" }, values: [[1, "1"], [2, "NaN"], [3, "+Inf"], [4, "-Inf"]] },
        { metric: { endpoint: "list_todos" }, histograms: [[1, { count: "3" }], [2, { count: "4" }]] },
      ]),
    );
    assert.deepEqual(series, [
      { labels: { endpoint: "login" }, points: [[1, 1], [2, null], [3, Infinity], [4, -Infinity]], histogramPoints: 0 },
      { labels: { endpoint: "list_todos" }, points: [], histogramPoints: 2 },
    ]);
  });

  it("reads an empty matrix as no series", () => {
    assert.deepEqual(parseRange(matrix([])), []);
  });

  it("passes Prometheus's own words on, and refuses what is not a range vector", () => {
    const refused = { status: "error", errorType: "execution", error: "query timed out" };
    throwsPrometheusError(() => parseRange(refused), "failed", /^query timed out$/);
    throwsPrometheusError(() => parseRange(vector([])), "failed", /got vector/);
    throwsPrometheusError(() => parseRange(matrix([{ metric: {}, values: [[1, "x"]] }])), "failed", /not a sample value/);
  });
});

describe("the client against a stand-in Prometheus", () => {
  /** What the stand-in was asked: path and form. @type {{ path: string, form: URLSearchParams }[]} */
  const asked = [];
  /** What it answers next: HTTP status and body text. */
  let answer = { status: 200, body: "" };
  const server = createServer(async (request, response) => {
    let form = "";
    for await (const chunk of request) form += chunk;
    asked.push({ path: request.url ?? "", form: new URLSearchParams(form) });
    if (request.url?.startsWith("/slow/")) return; // never answers
    response.writeHead(answer.status, { "Content-Type": "application/json" });
    response.end(answer.body);
  });
  let base = "";
  before(async () => {
    await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it("asks an instant query as a POST form at the given time", async () => {
    answer = { status: 200, body: JSON.stringify(vector([{ metric: { job: "x" }, value: [5, "+Inf"] }])) };
    assert.deepEqual(await instantQuery(base, "up", 1700000000.25, 1000), [{ labels: { job: "x" }, value: Infinity }]);
    const last = asked.at(-1);
    assert.equal(last?.path, "/api/v1/query");
    assert.deepEqual(Object.fromEntries(last?.form ?? []), { query: "up", time: "1700000000.25" });
  });

  it("asks a range query as a POST form over the range", async () => {
    answer = { status: 200, body: JSON.stringify(matrix([{ metric: {}, values: [[10, "NaN"]] }])) };
    const series = await rangeQuery(base, "up", { start: 10, end: 20, step: 2 }, 1000);
    assert.deepEqual(series, [{ labels: {}, points: [[10, null]], histogramPoints: 0 }]);
    const last = asked.at(-1);
    assert.equal(last?.path, "/api/v1/query_range");
    assert.deepEqual(Object.fromEntries(last?.form ?? []), { query: "up", start: "10", end: "20", step: "2" });
  });

  it("passes on the words of an error answer, whatever its HTTP status", async () => {
    answer = { status: 400, body: JSON.stringify({ status: "error", errorType: "bad_data", error: "parse error" }) };
    await assert.rejects(instantQuery(base, "up{", 0, 1000), { name: "PrometheusError", kind: "failed", message: "parse error" });
  });

  it("says so when the answer is not JSON", async () => {
    answer = { status: 502, body: "<html>Bad Gateway</html>" };
    await assert.rejects(instantQuery(base, "up", 0, 1000), {
      kind: "failed",
      message: `Prometheus at ${base} answered 502 without JSON`,
    });
  });

  it("says Prometheus cannot be reached, keeping the network's reason as the cause", async () => {
    const closed = createServer();
    await new Promise((resolve) => closed.listen(0, "127.0.0.1", () => resolve(undefined)));
    const address = closed.address();
    const nobody = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    await new Promise((resolve) => closed.close(resolve)); // nothing listens there now
    await assert.rejects(instantQuery(nobody, "up", 0, 1000), (err) => {
      assert.ok(err instanceof PrometheusError);
      assert.equal(err.kind, "unreachable");
      assert.equal(err.message, `Prometheus cannot be reached at ${nobody}`);
      assert.match(String(/** @type {Error} */ (err.cause).message), /ECONNREFUSED/);
      return true;
    });
  });

  it("says Prometheus did not answer in time", async () => {
    await assert.rejects(rangeQuery(`${base}/slow`, "up", { start: 0, end: 1, step: 1 }, 200), {
      kind: "timeout",
      message: `Prometheus at ${base}/slow did not answer within 0.2 s`,
    });
  });
});

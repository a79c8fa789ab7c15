import { describe, expect, it } from "vitest";
import {
  type Bucket,
  bucketIncrease,
  counterIncrease,
  histogramBy,
  histogramQuantile,
  parsePrometheusText,
  sumBy,
} from "./prometheus";

const buckets = (pairs: [number, number][]): Bucket[] => pairs.map(([le, count]) => ({ le, count }));

describe("parsePrometheusText", () => {
  it("reads names, labels and values and skips comments", () => {
    const samples = parsePrometheusText(
      [
        "# HELP http_requests_total Requests.",
        "# TYPE http_requests_total counter",
        'http_requests_total{endpoint="login",status_class="2xx"} 12',
        "",
        "tokio_alive_tasks 7 1700000000000",
        'x_bucket{le="+Inf"} 3',
      ].join("\n"),
    );
    expect(samples).toEqual([
      { name: "http_requests_total", labels: { endpoint: "login", status_class: "2xx" }, value: 12 },
      { name: "tokio_alive_tasks", labels: {}, value: 7 },
      { name: "x_bucket", labels: { le: "+Inf" }, value: 3 },
    ]);
  });

  it("unescapes label values and reads special floats", () => {
    const [a, b, c] = parsePrometheusText(
      ['m{v="a \\"quoted\\" \\\\ path\\nnext"} NaN', "m -Inf", "m{a=\"1\",} 1.5e-3"].join("\n"),
    );
    expect(a.labels.v).toBe('a "quoted" \\ path\nnext');
    expect(a.value).toBeNaN();
    expect(b.value).toBe(-Infinity);
    expect(c).toEqual({ name: "m", labels: { a: "1" }, value: 0.0015 });
  });

  it("ignores lines it cannot read instead of failing the scrape", () => {
    expect(parsePrometheusText('broken{ 1\nok 2\nm{a="1"} notanumber')).toEqual([
      { name: "ok", labels: {}, value: 2 },
    ]);
  });
});

describe("aggregation", () => {
  const samples = parsePrometheusText(
    [
      'h_bucket{endpoint="login",status_class="2xx",le="0.1"} 1',
      'h_bucket{endpoint="login",status_class="2xx",le="+Inf"} 2',
      'h_bucket{endpoint="login",status_class="5xx",le="0.1"} 0',
      'h_bucket{endpoint="login",status_class="5xx",le="+Inf"} 3',
      'h_bucket{endpoint="list_todos",status_class="2xx",le="+Inf"} 4',
      'h_bucket{endpoint="list_todos",status_class="2xx",le="0.1"} 4',
      'r_total{endpoint="login",status_class="2xx"} 2',
      'r_total{endpoint="login",status_class="5xx"} 3',
    ].join("\n"),
  );

  it("sums histogram buckets over the other labels and sorts them by bound", () => {
    const h = histogramBy(samples, "h", "endpoint");
    expect(h.get("login")).toEqual(buckets([[0.1, 1], [Infinity, 5]]));
    expect(h.get("list_todos")).toEqual(buckets([[0.1, 4], [Infinity, 4]]));
  });

  it("sums counters by a label, optionally filtered", () => {
    expect(sumBy(samples, "r_total", "endpoint").get("login")).toBe(5);
    expect(sumBy(samples, "r_total", "endpoint", { status_class: "5xx" }).get("login")).toBe(3);
  });
});

describe("histogramQuantile (Prometheus semantics)", () => {
  const h = buckets([[0.1, 10], [0.5, 20], [1, 30], [Infinity, 40]]);

  it("interpolates linearly inside the bucket holding the rank", () => {
    expect(histogramQuantile(0.1, h)).toBeCloseTo(0.04); // rank 4 of 10 in [0, 0.1]
    expect(histogramQuantile(0.25, h)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.5, h)).toBeCloseTo(0.5); // rank 20: top of (0.1, 0.5]
    expect(histogramQuantile(0.6, h)).toBeCloseTo(0.7); // rank 24: 4 of 10 into (0.5, 1]
  });

  it("answers the highest finite bound when the rank falls in the +Inf bucket", () => {
    expect(histogramQuantile(0.95, h)).toBe(1);
  });

  it("has no value without observations, without a +Inf bucket or with one bucket", () => {
    expect(histogramQuantile(0.5, buckets([[0.1, 0], [Infinity, 0]]))).toBeNull();
    expect(histogramQuantile(0.5, buckets([[0.1, 3], [1, 5]]))).toBeNull();
    expect(histogramQuantile(0.5, buckets([[Infinity, 5]]))).toBeNull();
    expect(histogramQuantile(0.5, [])).toBeNull();
  });

  it("treats q outside [0, 1] like Prometheus", () => {
    expect(histogramQuantile(-0.1, h)).toBe(-Infinity);
    expect(histogramQuantile(1.1, h)).toBe(Infinity);
    expect(histogramQuantile(NaN, h)).toBeNull();
  });

  it("does not depend on the order buckets arrive in", () => {
    expect(histogramQuantile(0.6, [...h].reverse())).toBeCloseTo(0.7);
  });

  it("repairs a non-monotonic scrape by carrying the maximum forward", () => {
    // le=1 read lower than le=0.5 (non-atomic scrape): treated as 20.
    const broken = buckets([[0.1, 10], [0.5, 20], [1, 18], [Infinity, 20]]);
    expect(histogramQuantile(0.5, broken)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.9, broken)).toBeCloseTo(0.1 + 0.4 * 0.8);
  });

  it("uses the contract's buckets: a 30 ms request lands between 25 and 50 ms", () => {
    const bounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Infinity];
    const one = bounds.map((le) => ({ le, count: le >= 0.05 ? 1 : 0 }));
    expect(histogramQuantile(0.5, one)).toBeCloseTo(0.0375);
    expect(histogramQuantile(0.95, one)).toBeCloseTo(0.025 + 0.025 * 0.95);
  });
});

describe("windows between two scrapes", () => {
  it("takes each bucket's increase, so old observations do not count", () => {
    const before = buckets([[0.01, 100], [1, 100], [Infinity, 100]]); // 100 fast requests earlier
    const after = buckets([[0.01, 100], [1, 110], [Infinity, 110]]); // then 10 slow ones
    const window = bucketIncrease(before, after);
    expect(window).toEqual(buckets([[0.01, 0], [1, 10], [Infinity, 10]]));
    expect(histogramQuantile(0.5, window)).toBeCloseTo(0.505);
    // Over all time the median is still fast:
    expect(histogramQuantile(0.5, after)).toBeLessThan(0.01);
  });

  it("gives no quantile for a window without requests", () => {
    const h = buckets([[0.01, 5], [Infinity, 5]]);
    expect(histogramQuantile(0.95, bucketIncrease(h, h))).toBeNull();
  });

  it("counts everything since a restart when a counter went down", () => {
    expect(counterIncrease(10, 15)).toBe(5);
    expect(counterIncrease(10, 3)).toBe(3);
    const before = buckets([[0.01, 50], [Infinity, 60]]);
    const restarted = buckets([[0.01, 2], [Infinity, 4]]);
    expect(bucketIncrease(before, restarted)).toEqual(restarted);
  });

  it("treats buckets absent from the first scrape as zero", () => {
    expect(bucketIncrease(undefined, buckets([[Infinity, 3]]))).toEqual(buckets([[Infinity, 3]]));
    expect(bucketIncrease([], buckets([[1, 2], [Infinity, 3]]))).toEqual(buckets([[1, 2], [Infinity, 3]]));
  });
});

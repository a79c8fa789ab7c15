/**
 * Prometheus text-format parsing and the histogram maths the dashboard needs.
 *
 * Pure functions only (no I/O), so the server route that scrapes the service
 * and the browser code that draws the charts share one tested implementation.
 *
 * The quantile follows Prometheus' own `histogram_quantile(q, rate(x_bucket[w]))`:
 * take the change of every cumulative bucket between two scrapes, find the
 * bucket holding rank q*count, and interpolate linearly inside it. See
 * `bucketQuantile` in prometheus/promql/quantile.go for the reference.
 */

/** One sample line: `name{labels} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One cumulative histogram bucket: observations <= `le`. */
export interface Bucket {
  le: number;
  count: number;
}

/** Parses a Prometheus text exposition (version 0.0.4). Comments and blank lines are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const sample = parseSampleLine(line);
    if (sample) samples.push(sample);
  }
  return samples;
}

function parseSampleLine(line: string): Sample | null {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) return null;
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === "{") {
    i++;
    for (;;) {
      while (line[i] === " " || line[i] === ",") i++;
      if (line[i] === "}") {
        i++;
        break;
      }
      const labelMatch = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(line.slice(i));
      if (!labelMatch) return null;
      i += labelMatch[0].length;
      let value = "";
      while (i < line.length && line[i] !== '"') {
        if (line[i] === "\\" && i + 1 < line.length) {
          const next = line[i + 1];
          value += next === "n" ? "\n" : next;
          i += 2;
        } else {
          value += line[i++];
        }
      }
      if (line[i] !== '"') return null;
      i++;
      labels[labelMatch[1]] = value;
    }
  }
  // The value, then an optional timestamp we do not need.
  const valueText = line.slice(i).trim().split(/\s+/)[0];
  const value = parseNumber(valueText);
  if (value === null) return null;
  return { name, labels, value };
}

/** Prometheus numbers: floats plus `+Inf`, `-Inf` and `NaN`. */
export function parseNumber(text: string | undefined): number | null {
  if (text === undefined || text === "") return null;
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const n = Number(text);
  return Number.isNaN(n) ? null : n;
}

/**
 * Sums samples of metric `name` grouped by the value of label `by`
 * (like PromQL `sum by (by) (name)`); samples without that label are skipped.
 * An optional filter keeps only samples whose labels match.
 */
export function sumBy(
  samples: Sample[],
  name: string,
  by: string,
  filter: Record<string, string> = {},
): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== name) continue;
    const key = s.labels[by];
    if (key === undefined) continue;
    if (!Object.entries(filter).every(([k, v]) => s.labels[k] === v)) continue;
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/** The value of the first sample named `name` (an unlabelled gauge or counter), or null. */
export function single(samples: Sample[], name: string): number | null {
  const s = samples.find((x) => x.name === name);
  return s ? s.value : null;
}

/**
 * The buckets of histogram `base` (samples `base_bucket`) per value of label `by`,
 * summed over every other label (PromQL `sum by (by, le) (base_bucket)`), sorted by `le`.
 */
export function histogramBy(samples: Sample[], base: string, by: string): Map<string, Bucket[]> {
  const grouped = new Map<string, Map<number, number>>();
  for (const s of samples) {
    if (s.name !== `${base}_bucket`) continue;
    const key = s.labels[by];
    const le = parseNumber(s.labels.le);
    if (key === undefined || le === null || Number.isNaN(le)) continue;
    const buckets = grouped.get(key) ?? new Map<number, number>();
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
    grouped.set(key, buckets);
  }
  const out = new Map<string, Bucket[]>();
  for (const [key, buckets] of grouped) {
    out.set(
      key,
      [...buckets.entries()].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le),
    );
  }
  return out;
}

/**
 * How much a counter grew from `prev` to `cur`. A drop means the process restarted
 * and the counter began again from zero, so (as Prometheus' `rate` does) the whole
 * current value counts as growth.
 */
export function counterIncrease(prev: number, cur: number): number {
  return cur >= prev ? cur - prev : cur;
}

/**
 * The per-bucket increase between two scrapes of one histogram (the `rate(..._bucket[w])`
 * part of the query, without dividing by time: the quantile does not depend on it).
 * If any bucket dropped, the histogram was reset and the current buckets are the increase.
 * A bucket missing from `prev` counts as 0 there.
 */
export function bucketIncrease(prev: Bucket[] | undefined, cur: Bucket[]): Bucket[] {
  if (!prev) return cur.map((b) => ({ ...b }));
  const before = new Map(prev.map((b) => [b.le, b.count]));
  const reset = cur.some((b) => b.count < (before.get(b.le) ?? 0));
  return cur.map((b) => ({ le: b.le, count: reset ? b.count : b.count - (before.get(b.le) ?? 0) }));
}

/**
 * `histogram_quantile(q, buckets)` as Prometheus computes it.
 *
 * Returns null where Prometheus returns NaN: no +Inf bucket, fewer than two buckets,
 * or no observations. q outside [0, 1] gives -Infinity / +Infinity like Prometheus.
 * A rank that lands in the +Inf bucket answers the highest finite bound, since
 * nothing is known about how far above it those observations lie.
 */
export function histogramQuantile(q: number, input: Bucket[]): number | null {
  if (Number.isNaN(q)) return null;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const buckets = [...input].sort((a, b) => a.le - b.le);
  if (buckets.length < 2 || buckets[buckets.length - 1].le !== Infinity) return null;
  // Scrapes are not atomic: a later bucket can read lower than an earlier one.
  // Prometheus repairs that by carrying the running maximum forward.
  let max = 0;
  const counts = buckets.map((b) => (max = Math.max(max, b.count)));
  const observations = counts[counts.length - 1];
  if (!(observations > 0)) return null;

  let rank = q * observations;
  let b = counts.findIndex((c) => c >= rank);
  if (b === -1) b = counts.length - 1;
  if (b === buckets.length - 1) return buckets[buckets.length - 2].le;
  if (b === 0 && buckets[0].le <= 0) return buckets[0].le;

  let bucketStart = 0;
  const bucketEnd = buckets[b].le;
  let count = counts[b];
  if (b > 0) {
    bucketStart = buckets[b - 1].le;
    count -= counts[b - 1];
    rank -= counts[b - 1];
  }
  const value = bucketStart + (bucketEnd - bucketStart) * (rank / count);
  return Number.isNaN(value) ? null : value;
}

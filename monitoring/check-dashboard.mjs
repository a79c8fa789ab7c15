#!/usr/bin/env node
/**
 * Runs every query of the lab's Grafana dashboard against a Prometheus and fails naming each panel
 * that shows no data, so a renamed metric or a broken query is caught by a test, not by a person
 * staring at an empty chart.
 *
 *     node monitoring/check-dashboard.mjs --prometheus http://127.0.0.1:59090 --last 10m
 *     node monitoring/check-dashboard.mjs --start 2026-11-28T11:50:00Z --end 2026-11-28T12:00:00Z \
 *         --sources todo-service,postgres --var instance=127.0.0.1:46213
 *
 * Each panel's queries are asked with query_range (prometheus-api.mjs, the web UI's client too)
 * over the time range, the variables filled in by dashboard-queries.mjs (the web UI's code too)
 * the way Grafana fills them: `$__rate_interval` is max(step + scrape interval, 4 x scrape
 * interval), `$__interval` the step, `$__range` the range;
 * a template variable is its "All" value (`.*`) unless `--var NAME=VALUE` picks one value, which
 * is then regex-escaped as Grafana escapes a value of a multi-value or "include All" variable.
 *
 * Every panel names where its data comes from in the first words of its description,
 * `Source: <source>.`, one of SOURCES. Panels whose source is not among `--sources` (by default all)
 * are not queried but listed as needing that source, so a check without k6 or the latency proxy says
 * so instead of skipping silently. A panel that declares no known source is an error.
 *
 * Exit status: 0 when every checked query returned data, 1 when one returned none or failed, 2 for
 * bad arguments, a dashboard that cannot be read or a Prometheus that does not answer. Node 20's
 * standard library only.
 */
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  DashboardError,
  SOURCES,
  intervalValues,
  rateInterval,
  readDashboard,
  secondsText,
  substitute,
  templateValues,
} from "./dashboard-queries.mjs";
import { PrometheusError, rangeQuery } from "./prometheus-api.mjs";

/** @typedef {import("./dashboard-queries.mjs").Dashboard} Dashboard */
/** @typedef {import("./dashboard-queries.mjs").Panel} Panel */
/** @typedef {import("./dashboard-queries.mjs").Target} Target */
/** @typedef {import("./dashboard-queries.mjs").Window} Window */
/** @typedef {import("./prometheus-api.mjs").RangeSeries} RangeSeries */

export const DASHBOARD = join(dirname(fileURLToPath(import.meta.url)), "grafana", "dashboards", "todo-lab.json");

/** How long one query may take; a dashboard's queries over hours of 1 s scrapes take seconds. */
const QUERY_TIMEOUT_MS = 30_000;

/** Most points per series asked for; Grafana asks about one per pixel of a panel's width. */
export const MAX_POINTS = 500;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
/** @type {Record<string, number>} */
const UNIT_SECONDS = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const NUMBER = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * What one target of one panel gave: data, none, an error, or not checked for want of a source.
 * @typedef {object} Outcome
 * @property {Panel} panel
 * @property {Target} target
 * @property {"ok" | "no data" | "error" | "needs source"} status
 * @property {string} detail
 */

/** A command line this checker cannot run; exits 2 with the usage, as argparse would. */
export class UsageError extends Error {
  name = "UsageError";
}

/**
 * The error's own words, or its cause's when it only says "fetch failed"; a PrometheusError's
 * words with the network's error it keeps as its cause.
 * @param {unknown} err
 * @returns {string}
 */
function reason(err) {
  if (!(err instanceof Error)) return String(err);
  if (!(err.cause instanceof Error)) return err.message;
  return err instanceof PrometheusError ? `${err.message} (${err.cause.message})` : err.cause.message;
}

/**
 * Whether any series has a point Grafana would draw: a float that is not NaN (infinities are
 * values, prometheus-api.mjs), or a native histogram.
 * @param {RangeSeries[]} series
 */
export function hasData(series) {
  return series.some((one) => one.histogramPoints > 0 || one.points.some(([, value]) => value !== null));
}

/**
 * Every target of every panel asked over `window`, in the dashboard's order.
 * @param {Dashboard} dashboard
 * @param {string} prometheus
 * @param {Window} window
 * @param {Record<string, string>} chosen
 * @param {Set<string>} sources
 * @returns {Promise<Outcome[]>}
 */
export async function check(dashboard, prometheus, window, chosen, sources) {
  const values = { ...templateValues(dashboard, chosen), ...intervalValues(window) };
  /** @type {Outcome[]} */
  const outcomes = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      if (panel.source === null) {
        const detail = `the description must begin "Source: <${SOURCES.join("|")}>."`;
        outcomes.push({ panel, target, status: "error", detail });
        continue;
      }
      if (!sources.has(panel.source)) {
        outcomes.push({ panel, target, status: "needs source", detail: panel.source });
        continue;
      }
      let series;
      try {
        series = await rangeQuery(prometheus, substitute(target.expr, values), window, QUERY_TIMEOUT_MS);
      } catch (err) {
        outcomes.push({ panel, target, status: "error", detail: reason(err) });
        continue;
      }
      if (hasData(series)) outcomes.push({ panel, target, status: "ok", detail: "" });
      else outcomes.push({ panel, target, status: "no data", detail: series.length ? "only NaN points" : "no series" });
    }
  }
  return outcomes;
}

const LABELS = { ok: "ok", "no data": "NO DATA", error: "ERROR", "needs source": "NEEDS SOURCE" };

/**
 * The lines a person reads, and whether the check passed.
 * @param {Outcome[]} outcomes
 * @returns {{ text: string, passed: boolean }}
 */
export function report(outcomes) {
  const lines = outcomes.map((o) => {
    const label = LABELS[o.status].padEnd(13);
    const what = `${o.panel.title} [${o.target.refId}]`;
    if (o.status === "needs source") return `  ${label} ${what}: not checked, ${o.detail} is not among --sources`;
    return `  ${label} ${what}${o.detail ? `: ${o.detail}` : ""}`;
  });
  const failed = outcomes.filter((o) => o.status === "no data" || o.status === "error");
  const unchecked = outcomes.filter((o) => o.status === "needs source");
  const needed = [...new Set(unchecked.map((o) => o.panel.source ?? ""))].sort();
  const checked = outcomes.length - unchecked.length;
  let summary = `${checked - failed.length} of ${checked} checked queries returned data`;
  if (unchecked.length) summary += `; ${unchecked.length} not checked, needing ${needed.join(", ")}`;
  if (failed.length) {
    const panels = [...new Set(failed.map((o) => o.panel.title))];
    summary += `\nFAILED: ${panels.length} panel(s) without data or with a failing query: ${panels.join("; ")}`;
  }
  return { text: [...lines, summary].join("\n"), passed: failed.length === 0 };
}

/** @param {string} text */
export function parseDuration(text) {
  const match = DURATION.exec(text);
  if (!match) throw new UsageError(`'${text}' is not a duration like 30s, 10m or 1h`);
  return Number(match[1]) * UNIT_SECONDS[match[2]];
}

/**
 * Unix seconds, or an ISO 8601 time with its offset (2026-11-28T11:50:00Z).
 * @param {string} text
 */
export function parseTime(text) {
  if (NUMBER.test(text)) return Number(text);
  const m = ISO_TIME.exec(text);
  const [year, month, day, hour, minute, second] = (m?.slice(1, 7) ?? []).map((part) => Number(part ?? 0));
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(utc);
  const valid = m && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
  if (!m || !valid) throw new UsageError(`'${text}' is neither unix seconds nor an ISO 8601 time`);
  if (!m[8] && !m[9]) throw new UsageError(`'${text}' has no UTC offset (add Z or +00:00)`);
  const offset = m[9] ? (m[9] === "-" ? -1 : 1) * (Number(m[10]) * 3600 + Number(m[11]) * 60) : 0;
  return utc / 1000 + Number(m[7] ?? 0) - offset;
}

/** @param {string} text */
export function parseVar(text) {
  const at = text.indexOf("=");
  if (at <= 0) throw new UsageError(`'${text}' is not NAME=VALUE`);
  return /** @type {[string, string]} */ ([text.slice(0, at), text.slice(at + 1)]);
}

const USAGE = `usage: check-dashboard.mjs [-h] [--prometheus PROMETHEUS] [--dashboard DASHBOARD] (--last LAST | --start START)
                          [--end END] [--step STEP] [--scrape-interval SCRAPE_INTERVAL] [--var NAME=VALUE]
                          [--sources SOURCES]`;

const HELP = `${USAGE}

Runs every query of the lab's Grafana dashboard against a Prometheus and fails naming each panel
that shows no data.

options:
  -h, --help            show this help message and exit
  --prometheus PROMETHEUS
                        Prometheus base URL (default: the lab's)
  --dashboard DASHBOARD
                        dashboard JSON (default: ${DASHBOARD})
  --last LAST           the range ending now, e.g. 10m
  --start START         range start: unix seconds or ISO 8601 with offset (with --end)
  --end END             range end (with --start)
  --step STEP           resolution (default: the range / ${MAX_POINTS}, at least the scrape interval)
  --scrape-interval SCRAPE_INTERVAL
                        Prometheus's scrape interval, the data source's timeInterval (default: 1s, as
                        monitoring/prometheus.yml)
  --var NAME=VALUE      give a template variable one value instead of All (.*), e.g. instance=127.0.0.1:9090
  --sources SOURCES     comma-separated sources present in the range; panels needing others are listed,
                        not checked (default: ${SOURCES.join(",")})`;

/**
 * @typedef {object} Args
 * @property {string} prometheus
 * @property {string} dashboard
 * @property {number | null} last
 * @property {number | null} start
 * @property {number | null} end
 * @property {number | null} step
 * @property {number} scrapeInterval
 * @property {Record<string, string>} vars
 * @property {Set<string>} sources
 */

/**
 * The command line as typed values; throws UsageError for anything argparse would refuse.
 * @param {string[]} argv
 * @returns {Args | "help"}
 */
export function parseArguments(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        help: { type: "boolean", short: "h" },
        prometheus: { type: "string", default: "http://127.0.0.1:59090" },
        dashboard: { type: "string", default: DASHBOARD },
        last: { type: "string" },
        start: { type: "string" },
        end: { type: "string" },
        step: { type: "string" },
        "scrape-interval": { type: "string", default: "1s" },
        var: { type: "string", multiple: true, default: [] },
        sources: { type: "string", default: SOURCES.join(",") },
      },
    }));
  } catch (err) {
    throw new UsageError(reason(err));
  }
  if (values.help) return "help";
  /**
   * @template T
   * @param {string} option
   * @param {(text: string) => T} parse
   * @param {string | undefined} text
   */
  const typed = (option, parse, text) => {
    try {
      return text === undefined ? null : parse(text);
    } catch (err) {
      throw new UsageError(`argument --${option}: ${reason(err)}`);
    }
  };
  if (values.last === undefined && values.start === undefined) {
    throw new UsageError("one of the arguments --last --start is required");
  }
  if (values.last !== undefined && values.start !== undefined) {
    throw new UsageError("argument --start: not allowed with argument --last");
  }
  const args = {
    prometheus: values.prometheus ?? "",
    dashboard: values.dashboard ?? DASHBOARD,
    last: typed("last", parseDuration, values.last),
    start: typed("start", parseTime, values.start),
    end: typed("end", parseTime, values.end),
    step: typed("step", parseDuration, values.step),
    scrapeInterval: typed("scrape-interval", parseDuration, values["scrape-interval"]) ?? 1,
    // Later --var of the same name wins, as dict() of argparse's list did.
    vars: Object.fromEntries((values.var ?? []).map((text) => /** @type {[string, string]} */ (typed("var", parseVar, text)))),
    sources: new Set((values.sources ?? "").split(",").map((s) => s.trim()).filter(Boolean)),
  };
  if (args.start !== null && args.end === null) throw new UsageError("--start needs --end");
  if (args.last !== null && args.end !== null) throw new UsageError("--end goes with --start, not --last");
  const unknown = [...args.sources].filter((s) => !SOURCES.some((known) => known === s)).sort();
  if (unknown.length) throw new UsageError(`unknown source(s) ${unknown.join(", ")}; known: ${SOURCES.join(", ")}`);
  return args;
}

/**
 * @param {Args} args
 * @param {number} now unix seconds
 * @returns {Window}
 */
export function windowOf(args, now) {
  const [start, end] = args.last !== null ? [now - args.last, now] : [args.start ?? 0, args.end ?? 0];
  if (end <= start) throw new DashboardError("the range is empty: --end must be after --start");
  const step = args.step || Math.max(args.scrapeInterval, Math.ceil((end - start) / MAX_POINTS));
  return { start, end, step, scrapeInterval: args.scrapeInterval };
}

/**
 * Null when Prometheus answers its API, else why not (one line, not one per query).
 * @param {string} prometheus
 */
export async function reachable(prometheus) {
  try {
    const response = await fetch(`${prometheus}/api/v1/status/buildinfo`, { signal: AbortSignal.timeout(5_000) });
    if (response.ok) return null;
    return `Prometheus does not answer at ${prometheus}: HTTP Error ${response.status}: ${response.statusText}`;
  } catch (err) {
    return `Prometheus does not answer at ${prometheus}: ${reason(err)}`;
  }
}

/** @param {number} seconds */
function clock(seconds) {
  const at = new Date(seconds * 1000);
  return [at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

/**
 * @typedef {{ write(text: string): unknown }} Output
 */

/**
 * The command: prints the check and returns its exit status.
 * @param {string[]} argv
 * @param {{ stdout: Output, stderr: Output }} [io]
 * @returns {Promise<number>}
 */
export async function main(argv, io = process) {
  let args;
  try {
    args = parseArguments(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`${USAGE}\ncheck-dashboard.mjs: error: ${err.message}\n`);
    return 2;
  }
  if (args === "help") {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }
  const prometheus = args.prometheus.replace(/\/+$/, "");
  const problem = await reachable(prometheus);
  if (problem) {
    io.stderr.write(`check-dashboard: ${problem}\n`);
    return 2;
  }
  let window, outcomes;
  try {
    let raw;
    try {
      raw = JSON.parse(readFileSync(args.dashboard, "utf8"));
    } catch (err) {
      throw new DashboardError(`cannot read ${args.dashboard}: ${reason(err)}`);
    }
    const dashboard = readDashboard(raw);
    window = windowOf(args, Date.now() / 1000);
    outcomes = await check(dashboard, prometheus, window, args.vars, args.sources);
  } catch (err) {
    if (!(err instanceof DashboardError)) throw err;
    io.stderr.write(`check-dashboard: ${err.message}\n`);
    return 2;
  }
  const { text, passed } = report(outcomes);
  io.stdout.write(
    `${basename(args.dashboard)} against ${prometheus}, ${clock(window.start)}–${clock(window.end)} ` +
      `(step ${secondsText(window.step)}, $__rate_interval ${secondsText(rateInterval(window))}, ` +
      `sources: ${[...args.sources].sort().join(", ")})\n${text}\n`,
  );
  return passed ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}

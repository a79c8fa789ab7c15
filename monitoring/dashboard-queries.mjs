/**
 * The lab's Grafana dashboard (grafana/dashboards/todo-lab.json) read as queries, and Grafana's
 * way of filling in their variables: the one piece of code that both the web UI's dashboard route
 * (web/app/lib/panel-queries.ts) and the dashboard checker (check-dashboard.mjs) use, so the two
 * cannot read the file or escape a value differently.
 *
 * Plain JavaScript with JSDoc types because it runs as is under Node 20 (which cannot run
 * TypeScript) and is type-checked by `tsc -p monitoring` (tsconfig.json here) and by the web
 * build, which imports it with `allowJs`. No I/O: callers hand in the parsed JSON.
 *
 * @module
 */

/**
 * Where a panel's data can come from: the scrape jobs of prometheus.yml, and k6, which pushes its
 * samples through the remote-write receiver instead of being scraped.
 */
export const SOURCES = /** @type {const} */ (["todo-service", "postgres", "latency-proxy", "k6"]);

/** @typedef {(typeof SOURCES)[number]} Source */

/** A template variable's value when none is given: what Grafana's "All" sends with allValue ".*". */
export const ALL = ".*";

/**
 * The parts of Grafana's dashboard JSON read here; everything else in the file is ignored.
 * @typedef {{ refId: string, expr?: string }} GrafanaTarget
 * @typedef {{ id?: number, title?: string, description?: string, targets?: GrafanaTarget[], panels?: GrafanaPanel[] }} GrafanaPanel
 * @typedef {{ name: string, type?: string, multi?: boolean, includeAll?: boolean }} GrafanaVariable
 * @typedef {{ panels?: GrafanaPanel[], templating?: { list?: GrafanaVariable[] } }} GrafanaDashboard
 */

/**
 * @typedef {object} Target
 * @property {string} refId Names the query; the web UI picks its queries by it.
 * @property {string} expr The PromQL, variables not filled in.
 *
 * @typedef {object} Panel
 * @property {string} title
 * @property {Source | null} source From the description's first words, `Source: <source>.`; null
 *   when it declares none (an error in the dashboard).
 * @property {Target[]} targets
 *
 * @typedef {object} Variable
 * @property {string} name
 * @property {boolean} escaped Whether Grafana regex-escapes a chosen value (multi-value and
 *   "include All" variables).
 *
 * @typedef {object} Dashboard
 * @property {Panel[]} panels Every panel with queries, those inside collapsed rows too.
 * @property {Variable[]} variables The template variables a query may use.
 *
 * @typedef {object} Window The time range and resolution of a range query, in seconds.
 * @property {number} start
 * @property {number} end
 * @property {number} step
 * @property {number} scrapeInterval Prometheus's, the data source's `timeInterval`.
 */

/** The dashboard JSON, or a panel or a variable in it, is not what this code can fill in. */
export class DashboardError extends Error {
  name = "DashboardError";
}

const SOURCE = /^Source: ([\w-]+)\./;
const VARIABLE = /\$(?:\{(\w+)(?::\w+)?\}|(\w+))|\[\[(\w+)\]\]/g;
/** The kinds of template variable whose value ends up in a query (not `datasource`, `interval`). */
const VALUE_TYPES = ["query", "custom", "textbox", "constant"];

/**
 * @param {GrafanaPanel[]} raw
 * @returns {Generator<GrafanaPanel>}
 */
function* panelsWithTargets(raw) {
  for (const panel of raw) {
    if (panel.targets?.length) yield panel;
    // Collapsed rows keep their panels inside them.
    yield* panelsWithTargets(panel.panels ?? []);
  }
}

/**
 * @param {string | undefined} description
 * @returns {Source | null}
 */
function sourceOf(description) {
  const name = SOURCE.exec(description ?? "")?.[1];
  return SOURCES.find((source) => source === name) ?? null;
}

/**
 * The panels, their queries and the template variables of a parsed dashboard JSON.
 * @param {GrafanaDashboard} raw
 * @returns {Dashboard}
 */
export function readDashboard(raw) {
  const panels = [...panelsWithTargets(raw.panels ?? [])].map((panel) => ({
    title: panel.title || `panel ${panel.id}`,
    source: sourceOf(panel.description),
    targets: (panel.targets ?? []).flatMap((t) => (t.expr ? [{ refId: t.refId, expr: t.expr }] : [])),
  }));
  const variables = (raw.templating?.list ?? [])
    .filter((v) => VALUE_TYPES.includes(v.type ?? ""))
    .map((v) => ({ name: v.name, escaped: Boolean(v.multi || v.includeAll) }));
  return { panels, variables };
}

/**
 * Every query of a dashboard by refId; a refId used twice maps to all its queries.
 * @param {Dashboard} dashboard
 * @returns {Map<string, string[]>}
 */
export function queriesByRefId(dashboard) {
  /** @type {Map<string, string[]>} */
  const out = new Map();
  for (const { refId, expr } of dashboard.panels.flatMap((p) => p.targets)) {
    out.set(refId, [...(out.get(refId) ?? []), expr]);
  }
  return out;
}

/**
 * A value for a `=~` matcher that matches `value` and nothing else: regex metacharacters get a
 * backslash, written twice because the matcher is a PromQL string literal. Grafana's Prometheus
 * data source escapes a value of a multi-value or "include All" variable the same way.
 * @param {string} value
 */
export function promRegexLiteral(value) {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\\\$&");
}

/**
 * The values of the dashboard's template variables as Grafana sends them: `chosen[name]` (regex
 * escaped where Grafana escapes it), else All (`.*`). Naming a variable the dashboard lacks is an
 * error, so a misspelt `--var` or UI setting never goes unnoticed.
 * @param {Dashboard} dashboard
 * @param {Record<string, string>} chosen
 * @returns {Record<string, string>}
 */
export function templateValues(dashboard, chosen) {
  const names = new Set(dashboard.variables.map((v) => v.name));
  const unknown = Object.keys(chosen).filter((name) => !names.has(name)).sort();
  if (unknown.length) throw new DashboardError(`the dashboard has no variable ${unknown.join(", ")}`);
  return Object.fromEntries(
    dashboard.variables.map((v) => {
      if (!Object.hasOwn(chosen, v.name)) return [v.name, ALL];
      return [v.name, v.escaped ? promRegexLiteral(chosen[v.name]) : chosen[v.name]];
    }),
  );
}

/**
 * Grafana's `$__rate_interval`: max(step + scrape interval, 4 x scrape interval), so a rate always
 * spans at least four scrapes and never skips a sample between steps.
 * @param {Window} window
 */
export function rateInterval(window) {
  return Math.max(window.step + window.scrapeInterval, 4 * window.scrapeInterval);
}

/**
 * A PromQL duration: whole seconds as `4s`, anything finer in milliseconds.
 * @param {number} seconds
 */
export function secondsText(seconds) {
  return Number.isInteger(seconds) ? `${seconds}s` : `${Math.round(seconds * 1000)}ms`;
}

/**
 * Grafana's built-in variables of a range query over `window`.
 * @param {Window} window
 * @returns {Record<string, string>}
 */
export function intervalValues(window) {
  const span = window.end - window.start;
  return {
    __rate_interval: secondsText(rateInterval(window)),
    __interval: secondsText(window.step),
    __interval_ms: String(Math.round(window.step * 1000)),
    __range: secondsText(span),
    __range_s: String(Math.round(span)),
    __range_ms: String(Math.round(span * 1000)),
  };
}

/**
 * Fills in `$name`, `${name}`, `${name:format}` and `[[name]]` from `values`. A variable without a
 * value is an error, never left in the query for Prometheus to reject or, worse, to match.
 * @param {string} expr
 * @param {Record<string, string>} values
 */
export function substitute(expr, values) {
  return expr.replace(VARIABLE, (_, braced, bare, bracketed) => {
    const name = braced ?? bare ?? bracketed;
    if (!Object.hasOwn(values, name)) throw new DashboardError(`unknown variable $${name}`);
    return values[name];
  });
}

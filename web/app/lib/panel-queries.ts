/**
 * The dashboard's PromQL, read from the Grafana dashboard (monitoring/grafana/dashboards/
 * todo-lab.json) so the UI and Grafana cannot drift apart: the UI names a query by its `refId`
 * (unique in that file) and fills in the dashboard's variables the way Grafana would.
 *
 * The JSON is bundled at build time; a refId the UI needs and the file lacks fails the build's
 * unit tests (panel-queries.test.ts), not a page at run time.
 */
import dashboardJson from "../../../monitoring/grafana/dashboards/todo-lab.json";

interface GrafanaTarget {
  refId: string;
  expr?: string;
}

interface GrafanaPanel {
  title?: string;
  targets?: GrafanaTarget[];
  /** A collapsed row keeps its panels inside it. */
  panels?: GrafanaPanel[];
}

/** The queries of the dashboard's Service row that the UI shows. */
export const REF_IDS = [
  "up",
  "info",
  "requestsTotal",
  "inFlight",
  "p50",
  "p95",
  "rps",
  "errorShare",
  "inUse",
  "idle",
  "max",
  "waiters",
  "timeoutsRate",
  "timeoutsTotal",
  "holdMean",
  "cpu",
  "rss",
  "tasks",
] as const;
export type RefId = (typeof REF_IDS)[number];

/** The values the UI gives the dashboard's variables. */
export interface Variables {
  /** The service's `instance` label, exactly (it is regex-escaped here, as Grafana does). */
  instance: string;
  /** What `$__rate_interval` becomes: the window of every rate, e.g. "5s". */
  rateInterval: string;
}

function* targetsOf(panels: GrafanaPanel[]): Generator<GrafanaTarget> {
  for (const panel of panels) {
    yield* panel.targets ?? [];
    yield* targetsOf(panel.panels ?? []);
  }
}

/** Every PromQL query of a dashboard by refId; a refId used twice maps to all its queries. */
export function queriesByRefId(dashboard: { panels?: GrafanaPanel[] }): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const target of targetsOf(dashboard.panels ?? [])) {
    if (target.expr === undefined) continue;
    out.set(target.refId, [...(out.get(target.refId) ?? []), target.expr]);
  }
  return out;
}

const QUERIES = queriesByRefId(dashboardJson as { panels?: GrafanaPanel[] });

/**
 * A value for a `=~` matcher that matches `value` and nothing else: regex metacharacters get a
 * backslash, written twice because the matcher is a PromQL string literal (Grafana's Prometheus
 * data source escapes a multi-value variable the same way).
 */
export function promRegexLiteral(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\\\$&");
}

/**
 * Replaces Grafana's `$name` and `${name}` in `expr` from `values`. A variable without a value
 * is an error, never left in the query for Prometheus to reject.
 */
export function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const value = values[name];
    if (value === undefined) throw new Error(`the dashboard's query uses $${name}, which the UI does not set`);
    return value;
  });
}

/** The query with refId `refId`, its variables filled in. */
export function panelQuery(refId: RefId, vars: Variables): string {
  const found = QUERIES.get(refId) ?? [];
  if (found.length !== 1) {
    throw new Error(`the Grafana dashboard has ${found.length} queries with refId ${refId}; the UI needs exactly one`);
  }
  return substitute(found[0], { instance: promRegexLiteral(vars.instance), __rate_interval: vars.rateInterval });
}

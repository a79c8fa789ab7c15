/**
 * The dashboard's PromQL, read from the Grafana dashboard (monitoring/grafana/dashboards/
 * todo-lab.json) so the UI and Grafana cannot drift apart: the UI names a query by its `refId`
 * (unique in that file) and fills in the dashboard's variables the way Grafana would, with the
 * code the dashboard checker uses too (monitoring/dashboard-queries.mjs).
 *
 * The JSON is bundled at build time; a refId the UI needs and the file lacks fails the build's
 * unit tests (panel-queries.test.ts), not a page at run time.
 */
import dashboardJson from "../../../monitoring/grafana/dashboards/todo-lab.json";
import { queriesByRefId, readDashboard, substitute, templateValues } from "../../../monitoring/dashboard-queries.mjs";

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

const DASHBOARD = readDashboard(dashboardJson);
const QUERIES = queriesByRefId(DASHBOARD);

/**
 * The query with refId `refId`, its variables filled in: `$instance` is the service's (regex
 * escaped, as Grafana escapes it), any other template variable All, `$__rate_interval` the UI's.
 */
export function panelQuery(refId: RefId, vars: Variables): string {
  const found = QUERIES.get(refId) ?? [];
  if (found.length !== 1) {
    throw new Error(`the Grafana dashboard has ${found.length} queries with refId ${refId}; the UI needs exactly one`);
  }
  return substitute(found[0], {
    ...templateValues(DASHBOARD, { instance: vars.instance }),
    __rate_interval: vars.rateInterval,
  });
}

/**
 * GET /dashboard/metrics: one `Reading` of the service, from Prometheus (PROMETHEUS_URL) with the
 * Grafana dashboard's queries, selecting the service by the `instance` label METRICS_URL names.
 * Prometheus and the metrics listener are only ever reached from this server, never from the
 * browser.
 *
 * Fails as JSON `{error, message}`: 502 prometheus_unreachable / prometheus_error and 504
 * prometheus_timeout when Prometheus is down, refused a query or is slow; 503 metrics_not_scraped
 * when it has no scrape of the service (not registered, or not scraped yet); 502
 * metrics_unreachable when its last scrape of the service failed (the service is down).
 */
import { assemble, scrapeProblem } from "../../lib/dashboard";
import { prometheusUrl, serviceInstance } from "../../lib/config";
import { PrometheusError, instantQuery } from "../../../../monitoring/prometheus-api.mjs";
import { queryAll } from "../../lib/queries";

export const dynamic = "force-dynamic";

/** Below the page's own 5 s timeout, so the page hears why rather than only that it failed. */
const QUERY_TIMEOUT_MS = 3000;

const STATUS_OF = { unreachable: 502, failed: 502, timeout: 504 } as const;
const CODE_OF = { unreachable: "prometheus_unreachable", failed: "prometheus_error", timeout: "prometheus_timeout" } as const;

export async function GET() {
  const base = prometheusUrl();
  const instance = serviceInstance();
  const t = Date.now();
  try {
    const answers = await queryAll((expr) => instantQuery(base, expr, t / 1000, QUERY_TIMEOUT_MS), instance);
    const problem = scrapeProblem(answers.now.up, instance);
    if (problem) return Response.json({ error: problem.error, message: problem.message }, { status: problem.status });
    return Response.json(assemble(answers, t), { headers: { "cache-control": "no-store" } });
  } catch (err) {
    if (!(err instanceof PrometheusError)) throw err;
    return Response.json({ error: CODE_OF[err.kind], message: err.message }, { status: STATUS_OF[err.kind] });
  }
}

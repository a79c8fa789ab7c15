/**
 * GET /dashboard/metrics: one scrape of the service's Prometheus endpoint, reduced to
 * a `Snapshot`. The metrics listener (METRICS_URL) is only ever reached from this
 * server, never from the browser. Fails as JSON `{error, message}` with 502/504.
 */
import { summarize } from "../../lib/dashboard";
import { metricsUrl } from "../../lib/config";
import { parsePrometheusText } from "../../lib/prometheus";

export const dynamic = "force-dynamic";

const SCRAPE_TIMEOUT_MS = 3000;

/** When the info metric is missing, /health beside /metrics still knows the pool mode. */
async function poolModeFromHealth(url: string): Promise<string | null> {
  try {
    const response = await fetch(new URL("/health", url), { cache: "no-store", signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { pool_mode?: unknown };
    return typeof body.pool_mode === "string" ? body.pool_mode : null;
  } catch {
    return null;
  }
}

export async function GET() {
  const url = metricsUrl();
  try {
    const response = await fetch(url, { cache: "no-store", signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
    if (!response.ok) {
      return Response.json(
        { error: "metrics_unavailable", message: `metrics endpoint answered ${response.status}` },
        { status: 502 },
      );
    }
    const snapshot = summarize(parsePrometheusText(await response.text()), Date.now());
    snapshot.poolMode ??= await poolModeFromHealth(url);
    return Response.json(snapshot, { headers: { "cache-control": "no-store" } });
  } catch (err) {
    const timedOut = err instanceof Error && err.name === "TimeoutError";
    return Response.json(
      {
        error: timedOut ? "metrics_timeout" : "metrics_unreachable",
        message: timedOut ? `no metrics within ${SCRAPE_TIMEOUT_MS / 1000} s` : "the service's metrics cannot be reached",
      },
      { status: timedOut ? 504 : 502 },
    );
  }
}

import { join } from "node:path";
import type { NextConfig } from "next";

// The service's URLs (API_URL, METRICS_URL) and Prometheus's (PROMETHEUS_URL) are read at
// request time by the route handlers in app/api and app/dashboard/metrics, not here: rewrites
// are frozen into the build, and the lab starts one build against services on changing ports.
//
// The root is the repository, not web/: the dashboard route bundles its PromQL from the Grafana
// dashboard in monitoring/grafana/dashboards/ (app/lib/panel-queries.ts), one source for both.
const repoRoot = join(__dirname, "..");

const nextConfig: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
};

export default nextConfig;

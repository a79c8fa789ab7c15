import type { NextConfig } from "next";

// The service's URLs (API_URL, METRICS_URL) are read at request time by the route
// handlers in app/api and app/dashboard/metrics, not here: rewrites are frozen into
// the build, and the lab starts one build against services on changing ports.
const nextConfig: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  turbopack: { root: __dirname },
};

export default nextConfig;

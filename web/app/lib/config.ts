/**
 * Where the todo service listens, read on every request (server side only) so one
 * production build can be pointed at services on any port.
 */

export function apiUrl(): string {
  return (process.env.API_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
}

export function metricsUrl(): string {
  return process.env.METRICS_URL ?? "http://127.0.0.1:9090/metrics";
}

/**
 * Where the todo service and the lab's Prometheus listen, read on every request (server side
 * only) so one production build can be pointed at services on any port.
 */

export function apiUrl(): string {
  return (process.env.API_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
}

/**
 * The service's metrics listener. The UI never fetches it: Prometheus scrapes it, and its
 * host:port is the `instance` label the dashboard's queries select (see `serviceInstance`).
 */
export function metricsUrl(): string {
  return process.env.METRICS_URL ?? "http://127.0.0.1:9090/metrics";
}

/** Prometheus's base URL; the default is the lab's own (scripts/prometheus.sh, port 59090). */
export function prometheusUrl(): string {
  return (process.env.PROMETHEUS_URL ?? "http://127.0.0.1:59090").replace(/\/+$/, "");
}

/**
 * The `instance` label Prometheus gives the service's series: the host:port it scrapes, as
 * registered (`scripts/prometheus.sh register todo-service HOST:PORT`). METRICS_URL must name the
 * listener the same way (127.0.0.1 and localhost are different instances to Prometheus).
 */
export function serviceInstance(url: string = metricsUrl()): string {
  const { hostname, port, protocol } = new URL(url);
  return `${hostname}:${port || (protocol === "https:" ? "443" : "80")}`;
}

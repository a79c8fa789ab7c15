//! Prometheus metrics, and the separate listener that serves them with a health check and the
//! API's OpenAPI document.
//!
//! Names follow Prometheus conventions (base units, `_seconds`, `_total`) and labels are bounded:
//! `endpoint` has four values, `status_class` five (`2xx` to `5xx`, and [`CANCELLED`] for a
//! request its client abandoned), `pool` at most three. Pool gauges and the tokio task count are
//! read at scrape time, so they are exact at that instant.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{
    Counter, Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::endpoint::Endpoint;

/// Seconds; every histogram here uses them.
///
/// Why this many: `histogram_quantile` (Prometheus, the dashboard, the experiment's report)
/// interpolates linearly inside the bucket a percentile falls in, as if its requests were spread
/// evenly there; inside a wide bucket the answer is that assumption, not the data (the old list
/// stepped 0.25, 0.5, 1 s, so the bursts' percentiles were mostly straight-line interpolation).
/// So between 10 ms and 1 s no bucket is more than 25% wider than its lower bound; below 10 ms,
/// steps of 0.5 to 2 ms tell a 1 ms query from a 5 ms one. Around the 500 ms acquire timeout the
/// steps are finer still (0.45, 0.5, 0.525, 0.55): requests that waited out the timeout land just
/// above 0.5, apart from those served just before it. Above 1 s a few wide buckets keep only the
/// tail's order of magnitude. 45 buckets times at most a dozen label sets per histogram is still
/// a small scrape.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.010, 0.0125, 0.015, 0.0175,
    0.020, 0.025, 0.030, 0.035, 0.040, 0.050, 0.060, 0.070, 0.080, 0.100, 0.125, 0.150, 0.175,
    0.200, 0.250, 0.300, 0.350, 0.400, 0.450, 0.500, 0.525, 0.550, 0.600, 0.700, 0.800, 1.0, 1.25,
    1.5, 2.0, 2.5, 5.0, 10.0,
];

pub struct Metrics {
    registry: Registry,
    pub http_request_duration_seconds: HistogramVec,
    pub http_requests_total: IntCounterVec,
    pub http_requests_in_flight: IntGaugeVec,
    pub pool_max_connections: IntGaugeVec,
    pub pool_connections_in_use: IntGaugeVec,
    pub pool_connections_idle: IntGaugeVec,
    pub pool_waiters: IntGaugeVec,
    pub pool_acquire_wait_seconds: HistogramVec,
    pub pool_acquire_timeouts_total: IntCounterVec,
    pub pool_connection_hold_seconds: HistogramVec,
    pub tokio_alive_tasks: IntGauge,
    pub process_cpu_seconds_total: Counter,
    pub process_resident_memory_bytes: IntGauge,
    pub service_info: IntGaugeVec,
    pub sessions_expired_deleted_total: IntCounter,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let registry = Registry::new();
        let registrar = Registrar(&registry);
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            registrar.add(HistogramVec::new(
                HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()),
                labels,
            ))
        };
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            registrar.add(IntGaugeVec::new(Opts::new(name, help), labels))
        };
        let counter = |name: &str, help: &str, labels: &[&str]| {
            registrar.add(IntCounterVec::new(Opts::new(name, help), labels))
        };

        Arc::new(Self {
            http_request_duration_seconds: histogram(
                "http_request_duration_seconds",
                "Time from request received to response produced, or to the client's abandoning it.",
                &["endpoint", "status_class"],
            ),
            http_requests_total: counter(
                "http_requests_total",
                "Requests answered, or abandoned by their client (status_class=\"cancelled\").",
                &["endpoint", "status_class"],
            ),
            http_requests_in_flight: gauge(
                "http_requests_in_flight",
                "Requests being handled now.",
                &["endpoint"],
            ),
            pool_max_connections: gauge(
                "db_pool_max_connections",
                "Connections the pool may hold.",
                &["pool"],
            ),
            pool_connections_in_use: gauge(
                "db_pool_connections_in_use",
                "Connections lent to requests.",
                &["pool"],
            ),
            pool_connections_idle: gauge(
                "db_pool_connections_idle",
                "Open connections waiting in the pool.",
                &["pool"],
            ),
            pool_waiters: gauge(
                "db_pool_waiters",
                "Requests waiting for a connection.",
                &["pool"],
            ),
            pool_acquire_wait_seconds: histogram(
                "db_pool_acquire_wait_seconds",
                "Time a request waited for a connection, timeouts included.",
                &["pool"],
            ),
            pool_acquire_timeouts_total: counter(
                "db_pool_acquire_timeouts_total",
                "Requests that got no connection within the acquire timeout (answered 503).",
                &["pool"],
            ),
            pool_connection_hold_seconds: histogram(
                "db_pool_connection_hold_seconds",
                "Time a request held a connection, from acquired to returned to the pool; \
                 one observation per acquisition (a login has two).",
                &["pool", "endpoint"],
            ),
            tokio_alive_tasks: registrar.add(IntGauge::new(
                "tokio_alive_tasks",
                "Tasks alive in the tokio runtime.",
            )),
            process_cpu_seconds_total: registrar.add(Counter::new(
                "process_cpu_seconds_total",
                "User and system CPU time of the service process, in seconds.",
            )),
            process_resident_memory_bytes: registrar.add(IntGauge::new(
                "process_resident_memory_bytes",
                "Resident memory of the service process.",
            )),
            service_info: gauge(
                "todo_service_info",
                "Always 1; labels describe the running service.",
                &["pool_mode", "version"],
            ),
            sessions_expired_deleted_total: registrar.add(IntCounter::new(
                "sessions_expired_deleted_total",
                "Expired sessions deleted by the background sweeper.",
            )),
            registry,
        })
    }

    /// Reads the runtime and process gauges now, then encodes every metric in the text format.
    /// The pool gauges are the pools' to set ([`crate::pools::Pools::record_gauges`]) just before.
    pub fn render(&self) -> String {
        let alive = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();
        self.tokio_alive_tasks.set(alive as i64);
        // A counter only goes up: add what was used since the last scrape.
        let cpu = process::cpu_seconds();
        self.process_cpu_seconds_total
            .inc_by((cpu - self.process_cpu_seconds_total.get()).max(0.0));
        self.process_resident_memory_bytes
            .set(process::resident_memory_bytes() as i64);
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("text encoding cannot fail");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }
}

/// Registers each metric as it is made, so a metric is declared in one place: its field's
/// initialiser. (A separate list of collectors to register had to repeat every field and could
/// silently miss one.)
struct Registrar<'r>(&'r Registry);

impl Registrar<'_> {
    /// Registers `made` (the result of a metric's constructor) and returns the metric. Both can
    /// only fail on a programming error here (invalid or duplicate names), so they panic.
    fn add<M>(&self, made: prometheus::Result<M>) -> M
    where
        M: prometheus::core::Collector + Clone + 'static,
    {
        let metric = made.expect("metric options are valid");
        self.0
            .register(Box::new(metric.clone()))
            .expect("metric names are unique");
        metric
    }
}

/// The process's own CPU time and memory. The prometheus crate's process collector reports CPU in
/// whole seconds, too coarse for a dashboard sampling every second; `getrusage` has microseconds.
mod process {
    pub fn cpu_seconds() -> f64 {
        // SAFETY: getrusage only writes the struct we pass; zeroed is a valid `rusage`.
        let usage = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_SELF, &mut usage);
            usage
        };
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        secs(usage.ru_utime) + secs(usage.ru_stime)
    }

    /// Resident set size from `/proc/self/statm` (Linux); 0 where that file does not exist.
    pub fn resident_memory_bytes() -> u64 {
        let pages = std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|statm| {
                statm
                    .split_whitespace()
                    .nth(1)
                    .and_then(|rss| rss.parse::<u64>().ok())
            })
            .unwrap_or(0);
        // SAFETY: sysconf has no preconditions.
        let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(0) as u64;
        pages * page_size
    }
}

/// The `endpoint` label of a request, from its method and matched route (never the raw path,
/// which would make the label set unbounded).
fn endpoint_label(method: &Method, route: Option<&str>) -> &'static str {
    match (method, route) {
        (&Method::POST, Some("/login")) => Endpoint::Login.label(),
        (&Method::POST, Some("/todos")) => Endpoint::CreateTodo.label(),
        (&Method::GET, Some("/todos")) => Endpoint::ListTodos.label(),
        _ => "other",
    }
}

/// The `status_class` of a request whose future was dropped before it produced a response: the
/// client went away (k6's timeout, the UI proxy's abort, a closed browser tab) and hyper stopped
/// the handler. Its own class rather than nginx's 499 folded into `4xx`, which would mix "the
/// client gave up" into "the client sent something wrong".
pub const CANCELLED: &str = "cancelled";

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        500.. => "5xx",
        400..=499 => "4xx",
        300..=399 => "3xx",
        _ => "2xx",
    }
}

/// Middleware: counts and times every request on the public API.
pub async fn track_http(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let mut tracked = TrackedRequest::start(&metrics, endpoint_label(request.method(), route));
    let response = next.run(request).await;
    tracked.answered(response.status());
    response
}

/// One request in `http_requests_in_flight` from [`TrackedRequest::start`] until dropped; the drop
/// counts and times it.
///
/// Why a drop guard: when a client disconnects mid-request, hyper drops the handler's future at
/// its `.await`, and code after the `.await` never runs. Counting there left the gauge up by one
/// for the rest of the process's life and the request neither counted nor timed (issue 21: 20
/// abandoned requests read 20 in flight forever). `Drop` runs either way; a request dropped
/// before [`TrackedRequest::answered`] is recorded as [`CANCELLED`]. (The same pattern as
/// [`crate::pools::PooledClient`]'s hold time.)
struct TrackedRequest<'a> {
    metrics: &'a Metrics,
    endpoint: &'static str,
    /// This endpoint's in-flight gauge, resolved once for the increment and the decrement.
    in_flight: IntGauge,
    started: Instant,
    /// The status class of the response, once there is one.
    status_class: Option<&'static str>,
}

impl<'a> TrackedRequest<'a> {
    fn start(metrics: &'a Metrics, endpoint: &'static str) -> Self {
        let in_flight = metrics
            .http_requests_in_flight
            .with_label_values(&[endpoint]);
        in_flight.inc();
        Self {
            metrics,
            endpoint,
            in_flight,
            started: Instant::now(),
            status_class: None,
        }
    }

    fn answered(&mut self, status: StatusCode) {
        self.status_class = Some(status_class(status));
    }
}

impl Drop for TrackedRequest<'_> {
    fn drop(&mut self) {
        let elapsed = self.started.elapsed().as_secs_f64();
        self.in_flight.dec();
        let labels = [self.endpoint, self.status_class.unwrap_or(CANCELLED)];
        self.metrics
            .http_request_duration_seconds
            .with_label_values(&labels)
            .observe(elapsed);
        self.metrics
            .http_requests_total
            .with_label_values(&labels)
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_labels_come_from_method_and_route_only() {
        assert_eq!(endpoint_label(&Method::POST, Some("/login")), "login");
        assert_eq!(endpoint_label(&Method::POST, Some("/todos")), "create_todo");
        assert_eq!(endpoint_label(&Method::GET, Some("/todos")), "list_todos");
        assert_eq!(endpoint_label(&Method::GET, Some("/login")), "other");
        assert_eq!(endpoint_label(&Method::GET, None), "other");
    }

    #[test]
    fn a_request_dropped_before_its_answer_leaves_the_gauge_and_counts_as_cancelled() {
        let metrics = Metrics::new();
        let in_flight = metrics
            .http_requests_in_flight
            .with_label_values(&["list_todos"]);
        let count = |class| {
            metrics
                .http_requests_total
                .with_label_values(&["list_todos", class])
                .get()
        };
        let cancelled = TrackedRequest::start(&metrics, "list_todos");
        let mut served = TrackedRequest::start(&metrics, "list_todos");
        served.answered(StatusCode::OK);
        assert_eq!(in_flight.get(), 2);
        drop(served);
        drop(cancelled);
        assert_eq!(in_flight.get(), 0);
        assert_eq!((count("2xx"), count(CANCELLED)), (1, 1));
    }

    #[test]
    fn process_cpu_and_memory_are_read_with_sub_second_precision() {
        let before = process::cpu_seconds();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        std::hint::black_box(x);
        assert!(process::cpu_seconds() > before);
        assert!(process::resident_memory_bytes() > 1024 * 1024);
    }

    #[test]
    fn buckets_separate_1ms_from_5ms_and_100ms_from_1s() {
        let bucket_of = |secs: f64| LATENCY_BUCKETS.iter().position(|&b| secs <= b);
        assert_ne!(bucket_of(0.001), bucket_of(0.005));
        assert_ne!(bucket_of(0.1), bucket_of(1.0));
    }

    #[test]
    fn buckets_are_at_most_a_quarter_wide_from_10ms_to_1s() {
        assert!(LATENCY_BUCKETS.windows(2).all(|pair| pair[0] < pair[1]));
        for pair in LATENCY_BUCKETS.windows(2) {
            let (low, high) = (pair[0], pair[1]);
            if (0.010..1.0).contains(&low) {
                assert!(
                    high <= low * 1.25 + 1e-9,
                    "bucket ({low}, {high}] is wider than 25%"
                );
            }
        }
    }

    #[test]
    fn the_default_acquire_timeout_is_a_bound_with_a_narrow_bucket_above_it() {
        let timeout = 0.5;
        let at = LATENCY_BUCKETS
            .iter()
            .position(|&b| b == timeout)
            .expect("0.5 s is a bound");
        // Waits that ran out the timeout (a little over 0.5 s) fill (0.5, 0.525] on their own.
        assert!(LATENCY_BUCKETS[at + 1] <= timeout * 1.05 + 1e-9);
    }
}

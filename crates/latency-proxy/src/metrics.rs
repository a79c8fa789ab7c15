//! What the proxy counts, in Prometheus's text format: connections and bytes in each direction.
//!
//! The lab's Prometheus scrapes this beside the service and the database, so a chart can show
//! that the proxy passed the traffic on (bytes keep flowing during a burst) and how many
//! connections the pools hold through it. Served on its own listener (`--metrics-listen`), never
//! on the proxied port.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;
use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};
use tokio::net::TcpListener;

/// The proxy's counters, registered in their own registry. Cloning shares the counters.
#[derive(Clone)]
pub struct ProxyMetrics {
    registry: Registry,
    /// Client connections accepted since start.
    pub connections_accepted: IntCounter,
    /// Client connections being proxied now.
    pub connections_open: IntGauge,
    /// Upstream connects that failed (the client's connection is then closed at once).
    pub upstream_connect_failures: IntCounter,
    /// Bytes written towards Postgres (`direction="upstream"`) and towards the client
    /// (`direction="client"`), counted as each delayed chunk leaves.
    bytes: IntCounterVec,
}

impl ProxyMetrics {
    pub fn new() -> Self {
        let connections_accepted = IntCounter::new(
            "latency_proxy_connections_accepted_total",
            "Client connections accepted",
        )
        .expect("valid metric");
        let connections_open = IntGauge::new(
            "latency_proxy_connections_open",
            "Client connections being proxied",
        )
        .expect("valid metric");
        let upstream_connect_failures = IntCounter::new(
            "latency_proxy_upstream_connect_failures_total",
            "Connections to the upstream that failed",
        )
        .expect("valid metric");
        let bytes = IntCounterVec::new(
            Opts::new(
                "latency_proxy_bytes_total",
                "Bytes written after the delay, by direction (upstream: to Postgres, client: to the service)",
            ),
            &["direction"],
        )
        .expect("valid metric");
        let registry = Registry::new();
        for collector in [
            Box::new(connections_accepted.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(connections_open.clone()),
            Box::new(upstream_connect_failures.clone()),
            Box::new(bytes.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        Self {
            registry,
            connections_accepted,
            connections_open,
            upstream_connect_failures,
            bytes,
        }
    }

    /// The counter of bytes written towards Postgres.
    pub fn bytes_to_upstream(&self) -> IntCounter {
        self.bytes.with_label_values(&["upstream"])
    }

    /// The counter of bytes written back towards the client.
    pub fn bytes_to_client(&self) -> IntCounter {
        self.bytes.with_label_values(&["client"])
    }

    /// Everything registered, in the text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("encoding to memory cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }

    /// Serves `GET /metrics` on `listener` until `shutdown` completes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let app = Router::new().route(
            "/metrics",
            get(move || {
                let body = self.render();
                async move { ([(CONTENT_TYPE, prometheus::TEXT_FORMAT)], body) }
            }),
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Binds `addr` for [`ProxyMetrics::serve`] (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        TcpListener::bind(addr).await
    }
}

impl Default for ProxyMetrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_names_every_counter_with_its_direction() {
        let metrics = ProxyMetrics::new();
        metrics.connections_accepted.inc();
        metrics.connections_open.inc();
        metrics.bytes_to_upstream().inc_by(7);
        metrics.bytes_to_client().inc_by(9);

        let text = metrics.render();
        assert!(
            text.contains("latency_proxy_connections_accepted_total 1"),
            "{text}"
        );
        assert!(text.contains("latency_proxy_connections_open 1"), "{text}");
        assert!(
            text.contains(r#"latency_proxy_bytes_total{direction="upstream"} 7"#),
            "{text}"
        );
        assert!(
            text.contains(r#"latency_proxy_bytes_total{direction="client"} 9"#),
            "{text}"
        );
        assert!(
            text.contains("latency_proxy_upstream_connect_failures_total 0"),
            "{text}"
        );
    }
}

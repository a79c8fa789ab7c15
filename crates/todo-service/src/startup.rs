//! Builds the service from its configuration and runs it until a shutdown signal.
//!
//! [`Application::build`] binds both listeners (port 0 picks a free port, which the tests use),
//! fills the pools and fits the connection cap to the file-descriptor limit;
//! [`Application::run_until_stopped`] serves until ctrl-c or SIGTERM, then lets requests in flight
//! finish within the shutdown grace period.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::auth::{LoginThrottle, PasswordHasher};
use crate::config::{HashingConfig, HttpLimits, ServeConfig};
use crate::metrics::Metrics;
use crate::metrics_listener;
use crate::pools::Pools;
use crate::routes::{self, AppState};
use crate::server::{self, fd_limit};
use crate::session_sweeper;

/// Connections the metrics listener serves at once: a scraper, the lab's sampler and a health
/// probe need a few; a small cap keeps it from eating the descriptors the public API needs.
const METRICS_MAX_CONNECTIONS: usize = 32;

pub struct Application {
    database_url: String,
    session_sweep_interval: Duration,
    service_metrics: Arc<Metrics>,
    api_listener: TcpListener,
    metrics_listener: TcpListener,
    api: axum::Router,
    metrics: axum::Router,
    api_limits: HttpLimits,
    metrics_limits: HttpLimits,
}

impl Application {
    pub async fn build(
        database_url: &str,
        config: &ServeConfig,
        hashing: &HashingConfig,
    ) -> anyhow::Result<Self> {
        let metrics = Metrics::new();
        metrics
            .service_info
            .with_label_values(&[config.pools.pool_mode.as_str(), env!("CARGO_PKG_VERSION")])
            .set(1);
        let pools = Pools::build(database_url, &config.pools, &metrics)?;
        pools.fill().await?;
        let state = AppState {
            pools: pools.clone(),
            hasher: PasswordHasher::new(hashing)?.with_slot_wait(config.login.hash_wait_timeout),
            throttle: LoginThrottle::new(&config.login),
            session_ttl_secs: config.session_ttl_secs,
            cookie_secure: config.cookie_secure,
        };
        let api_listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let metrics_listener = TcpListener::bind(config.metrics_listen)
            .await
            .with_context(|| format!("binding {}", config.metrics_listen))?;
        let api_limits = config
            .http
            .with_max_connections(api_connection_cap(config, &pools));
        Ok(Self {
            database_url: database_url.to_owned(),
            session_sweep_interval: Duration::from_secs(config.session_sweep_interval_secs.max(1)),
            service_metrics: metrics.clone(),
            api_listener,
            metrics_listener,
            api: routes::router(state, metrics.clone()),
            metrics: metrics_listener::router(metrics.clone(), pools),
            api_limits,
            metrics_limits: config.http.with_max_connections(METRICS_MAX_CONNECTIONS),
        })
    }

    pub fn api_addr(&self) -> SocketAddr {
        self.api_listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves both listeners until ctrl-c or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves both listeners until `stop` completes (tests pass their own future).
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let sweeper = session_sweeper::spawn(
            self.database_url.clone(),
            self.session_sweep_interval,
            self.service_metrics.clone(),
        );
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            stop.await;
            let _ = stop_tx.send(true);
        });
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let api = server::serve(
            self.api_listener,
            self.api,
            self.api_limits,
            stopped(stop_rx.clone()),
        );
        let metrics = server::serve(
            self.metrics_listener,
            self.metrics,
            self.metrics_limits,
            stopped(stop_rx),
        );
        tokio::join!(api, metrics);
        sweeper.abort();
        Ok(())
    }
}

/// Raises the file-descriptor limit and returns the public API's connection cap: the configured
/// one, lowered if needed to keep descriptors for the database pools, the metrics listener's
/// connections and [`fd_limit::FIXED_RESERVE`].
fn api_connection_cap(config: &ServeConfig, pools: &Pools) -> usize {
    let fd_limit = fd_limit::raise_to_hard_limit();
    let database: usize = pools.distinct().iter().map(|p| p.status().max_size).sum();
    let reserved = fd_limit::FIXED_RESERVE + (database + METRICS_MAX_CONNECTIONS) as u64;
    let cap = fd_limit::connection_cap(config.http.max_connections, fd_limit, reserved);
    tracing::info!(
        max_connections = cap,
        configured = config.http.max_connections,
        fd_limit,
        reserved,
        "public API connection cap"
    );
    if cap < config.http.max_connections {
        tracing::warn!(
            max_connections = cap,
            configured = config.http.max_connections,
            "the file-descriptor limit lowers the connection cap; raise the hard limit (ulimit -Hn) to lift it"
        );
    }
    cap
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

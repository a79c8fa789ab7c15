//! The listener: every accepted connection gets its own upstream connection and two delayed
//! copies, one per direction.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::delay::copy_delayed;
use crate::metrics::ProxyMetrics;

/// Pause after a failed `accept` (for example when out of file descriptors), so the loop does
/// not spin on the same error.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A bound proxy, ready to run.
pub struct Proxy {
    /// Where clients connect.
    listener: TcpListener,
    /// Where each client's bytes go: `host:port`, resolved for every connection.
    upstream: String,
    /// Added to every chunk in each direction.
    delay: Duration,
    /// Connections and bytes, for `--metrics-listen`.
    metrics: ProxyMetrics,
}

impl Proxy {
    /// Binds `listen` (port 0 picks a free port; see [`Proxy::local_addr`]).
    pub async fn bind(listen: SocketAddr, upstream: String, delay: Duration) -> io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        Ok(Self {
            listener,
            upstream,
            delay,
            metrics: ProxyMetrics::new(),
        })
    }

    /// The proxy's counters (shared: serve them while the proxy runs).
    pub fn metrics(&self) -> ProxyMetrics {
        self.metrics.clone()
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts and proxies connections until `shutdown` completes, then closes them all.
    ///
    /// Open connections are closed rather than drained: a database proxy's clients are pools
    /// that keep their connections for good, so waiting for them would never end. Clients see
    /// the connection drop, as they would if the network went away.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((client, _)) => {
                        self.metrics.connections_accepted.inc();
                        connections.spawn(serve(client, self.upstream.clone(), self.delay, self.metrics.clone()));
                    }
                    Err(err) => {
                        eprintln!("latency-proxy: accept failed: {err}");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                },
                // Reap finished connections so the set does not grow with every one ever served.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        connections.shutdown().await;
    }
}

/// Proxies one client connection until both directions have ended or one has failed.
async fn serve(client: TcpStream, upstream: String, delay: Duration, metrics: ProxyMetrics) {
    let _open = OpenConnection::count(&metrics);
    let server = match TcpStream::connect(&upstream).await {
        Ok(server) => server,
        Err(err) => {
            metrics.upstream_connect_failures.inc();
            eprintln!("latency-proxy: cannot connect to upstream {upstream}: {err}");
            return;
        }
    };
    // Small messages must leave as soon as they are due; Nagle's algorithm would hold them back
    // waiting for an ACK, adding a delay of its own.
    for stream in [&client, &server] {
        if let Err(err) = stream.set_nodelay(true) {
            eprintln!("latency-proxy: cannot set TCP_NODELAY: {err}");
        }
    }

    let (client_rd, client_wr) = client.into_split();
    let (server_rd, server_wr) = server.into_split();
    let result = tokio::try_join!(
        copy_delayed(client_rd, server_wr, delay, metrics.bytes_to_upstream()),
        copy_delayed(server_rd, client_wr, delay, metrics.bytes_to_client()),
    );
    if let Err(err) = result {
        // A peer going away mid-stream is routine (a pool dropping a connection, a killed
        // client); anything else is worth a line.
        if !matches!(
            err.kind(),
            io::ErrorKind::ConnectionReset
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::ConnectionAborted
        ) {
            eprintln!("latency-proxy: connection ended with an error: {err}");
        }
    }
}

/// Counts a connection as open for as long as it lives, also when its task is aborted at
/// shutdown (a decrement after the copy would be skipped then).
struct OpenConnection(prometheus::IntGauge);

impl OpenConnection {
    fn count(metrics: &ProxyMetrics) -> Self {
        metrics.connections_open.inc();
        Self(metrics.connections_open.clone())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}
